import IGDProtocol

/// The actions portkeeper sends, by name.
public enum ActionNames {
    public static let all = [
        Actions.GetExternalIPAddress.name, Actions.GetStatusInfo.name, Actions.GetConnectionTypeInfo.name,
        Actions.GetGenericPortMappingEntry.name, Actions.GetSpecificPortMappingEntry.name, Actions.GetListOfPortMappings.name,
        Actions.AddPortMapping.name, Actions.AddAnyPortMapping.name, Actions.DeletePortMapping.name, Actions.DeletePortMappingRange.name,
    ]
}
