/// A fault a gateway answered with: the UPnP error code and, where the specifications
/// name it, its name (UDA 1.1 §3.2.2; WANIPConnection:2 §2.4).
public struct UPnPError: Error, Sendable, Equatable, CustomStringConvertible {
    public let code: Int
    /// What the device said, if anything (errorDescription).
    public let deviceDescription: String?

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

    public static let invalidAction = 401
    public static let invalidArgs = 402
    public static let actionFailed = 501
    public static let actionNotAuthorized = 606
    public static let specifiedArrayIndexInvalid = 713
    public static let noSuchEntryInArray = 714
    public static let conflictInMappingEntry = 718
    public static let onlyPermanentLeasesSupported = 725
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
    public let status: Int
    public let action: String

    public init(status: Int, action: String) {
        self.status = status
        self.action = action
    }

    public var description: String { "\(action) answered HTTP \(status) without a UPnP fault" }
}
