/// A fault a gateway answered with: the UPnP error code and, where the specifications
/// name it, its name (UDA 1.1 §3.2.2; WANIPConnection:2 §2.4).
public struct UPnPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The UPnP error code (402, 714, 718…).
    public let code: Int
    /// What the device said, if anything (errorDescription).
    public let deviceDescription: String?

    /// The fault `code`, with what the device said.
    public init(code: Int, deviceDescription: String? = nil) {
        self.code = code
        self.deviceDescription = deviceDescription
    }

    /// The spec name of the code, or nil for codes the specifications do not name.
    public var name: String? { Self.names[code] }

    public var description: String {
        var text = "UPnP error \(code)"
        if let name { text += " \(name)" }
        if let deviceDescription, !deviceDescription.isEmpty, deviceDescription != name {
            text += " (\(deviceDescription))"
        }
        return text
    }

    /// 401 Invalid Action: the service has no such action.
    public static let invalidAction = 401
    /// 402 Invalid Args: an argument the gateway would not take (some say it for a lease).
    public static let invalidArgs = 402
    /// 501 Action Failed.
    public static let actionFailed = 501
    /// 606 Action not authorized: UPnP port mapping is off in the router's settings.
    public static let actionNotAuthorized = 606
    /// 713 SpecifiedArrayIndexInvalid: the end of the GetGenericPortMappingEntry walk.
    public static let specifiedArrayIndexInvalid = 713
    /// 714 NoSuchEntryInArray: no mapping with that key.
    public static let noSuchEntryInArray = 714
    /// 718 ConflictInMappingEntry: another client holds the port.
    public static let conflictInMappingEntry = 718
    /// 725 OnlyPermanentLeasesSupported: the gateway takes lease 0 only.
    public static let onlyPermanentLeasesSupported = 725
    /// 730 PortMappingNotFound: GetListOfPortMappings found nothing in the range.
    public static let portMappingNotFound = 730

    static let names: [Int: String] = [
        401: "InvalidAction",
        402: "InvalidArgs",
        403: "OutOfSync",
        501: "ActionFailed",
        600: "ArgumentValueInvalid",
        601: "ArgumentValueOutOfRange",
        602: "OptionalActionNotImplemented",
        603: "OutOfMemory",
        604: "HumanInterventionRequired",
        605: "StringArgumentTooLong",
        606: "ActionNotAuthorized",
        713: "SpecifiedArrayIndexInvalid",
        714: "NoSuchEntryInArray",
        715: "WildCardNotPermittedInSrcIP",
        716: "WildCardNotPermittedInExtPort",
        718: "ConflictInMappingEntry",
        724: "SamePortValuesRequired",
        725: "OnlyPermanentLeasesSupported",
        726: "RemoteHostOnlySupportsWildcard",
        727: "ExternalPortOnlySupportsWildcard",
        728: "NoPortMapsAvailable",
        729: "ConflictWithOtherMechanisms",
        730: "PortMappingNotFound",
        731: "ReadOnly",
        732: "WildCardNotPermittedInIntPort",
        733: "InconsistentParameters",
    ]
}

/// A control request answered with an HTTP status other than 200 and no UPnP fault in the body.
public struct UnexpectedHTTPStatus: Error, Sendable, Equatable, CustomStringConvertible {
    /// The HTTP status.
    public let status: Int
    /// The action it answered.
    public let action: String

    /// `action` answered `status` without a fault.
    public init(status: Int, action: String) {
        self.status = status
        self.action = action
    }

    public var description: String { "\(action) answered HTTP \(status) without a UPnP fault" }
}
