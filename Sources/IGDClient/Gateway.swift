import IGDProtocol

/// An Internet Gateway Device as portkeeper knows it after reading its description and
/// probing its WAN connection services.
public struct Gateway: Sendable, Equatable, Codable {
    /// The root device's UDN ("uuid:…"): how a gateway is known across reboots and new URLs.
    public var udn: String
    /// The name it gives itself (friendlyName).
    public var friendlyName: String
    /// Its manufacturer, as the description says.
    public var manufacturer: String
    /// Its model, as the description says.
    public var modelName: String
    /// Its model number, as the description says.
    public var modelNumber: String
    /// The root device's type URN (InternetGatewayDevice:1 or :2).
    public var deviceType: String
    /// Where its description was read.
    public var descriptionURL: GatewayURL
    /// The WAN connection service port mappings go to.
    public var service: ConnectionService
    /// Why that one, in a sentence.
    public var choiceReason: String
    /// Every WAN connection service the description lists.
    public var services: [ConnectionService]
    /// GetStatusInfo's answer (connection status, uptime), when probed and answered.
    public var status: Actions.StatusInfo?
    /// GetExternalIPAddress's answer, when probed and answered.
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
    /// Not read from the gateway (PCP and NAT-PMP cannot list): what portkeeper made there, as
    /// the registry keeps it, checked against the server's epoch.
    case portControl = "registry"
}

/// A gateway's mapping table.
public struct PortMappingTable: Sendable, Equatable {
    /// The entries that make sense, in the gateway's order.
    public var entries: [PortMappingEntry]
    /// How they were read.
    public var method: ListingMethod
    /// How the list ended, for the walk ("713 SpecifiedArrayIndexInvalid", "HTTP 500"), or
    /// why the v2 listing was not used.
    public var note: String?
    /// Entries that make no sense (no client, a client that is not an address, a lease that
    /// is not a number…): left out of `entries`, to be shown as warnings and never acted on.
    public var invalid: [InvalidPortMappingEntry] = []

    /// A table read with `method`.
    public init(entries: [PortMappingEntry], method: ListingMethod, note: String? = nil, invalid: [InvalidPortMappingEntry] = []) {
        self.entries = entries
        self.method = method
        self.note = note
        self.invalid = invalid
    }
}

/// An action the chosen service does not offer (a v2 action on a v1 service).
public struct ActionUnavailable: Error, Sendable, CustomStringConvertible {
    /// The action's name ("GetListOfPortMappings").
    public let action: String
    /// The service that lacks it.
    public let service: WANService
    public var description: String { "\(action) is not offered by \(service.rawValue)" }
}
