import IGDProtocol

/// An Internet Gateway Device as portkeeper knows it after reading its description and
/// probing its WAN connection services.
public struct Gateway: Sendable, Equatable, Codable {
    /// The root device's UDN ("uuid:…"): how a gateway is known across reboots and new URLs.
    public var udn: String
    public var friendlyName: String
    public var manufacturer: String
    public var modelName: String
    public var modelNumber: String
    public var deviceType: String
    public var descriptionURL: GatewayURL
    /// The WAN connection service port mappings go to.
    public var service: ConnectionService
    /// Why that one, in a sentence.
    public var choiceReason: String
    /// Every WAN connection service the description lists.
    public var services: [ConnectionService]
    public var status: Actions.StatusInfo?
    public var externalAddress: ExternalAddress?
    /// Things refused or worked around while reading the description.
    public var notes: [String]
    /// BOOTID.UPNP.ORG from discovery, when the device sends one.
    public var bootID: UInt32?
}

/// How a gateway's mapping table was read.
public enum ListingMethod: String, Sendable, Codable {
    /// IGDv2 GetListOfPortMappings: a request per protocol.
    case listOfPortMappings = "GetListOfPortMappings"
    /// GetGenericPortMappingEntry by index until the gateway says the list ended.
    case genericEntryWalk = "GetGenericPortMappingEntry"
}

/// A gateway's mapping table.
public struct PortMappingTable: Sendable, Equatable {
    public var entries: [PortMappingEntry]
    public var method: ListingMethod
    /// How the list ended, for the walk ("713 SpecifiedArrayIndexInvalid", "HTTP 500"), or
    /// why the v2 listing was not used.
    public var note: String?
    /// Entries that make no sense (no client, a client that is not an address, a lease that
    /// is not a number…): left out of `entries`, to be shown as warnings and never acted on.
    public var invalid: [InvalidPortMappingEntry] = []

    public init(entries: [PortMappingEntry], method: ListingMethod, note: String? = nil, invalid: [InvalidPortMappingEntry] = []) {
        self.entries = entries
        self.method = method
        self.note = note
        self.invalid = invalid
    }
}

/// An action the chosen service does not offer (a v2 action on a v1 service).
public struct ActionUnavailable: Error, Sendable, CustomStringConvertible {
    public let action: String
    public let service: WANService
    public var description: String { "\(action) is not offered by \(service.rawValue)" }
}
