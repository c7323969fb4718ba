import Foundation
import IGDProtocol
import PortKeeperModel

/// A gateway as the registry knows it.
public struct GatewayRecord: Sendable, Equatable, Codable {
    /// The registry's number for it.
    public var id: Int64
    /// The root device's UDN: who the gateway is, whatever its address or name.
    public var udn: String
    /// The name it gives itself.
    public var friendlyName: String
    /// Its manufacturer, as its description says.
    public var manufacturer: String
    /// Its model, as its description says.
    public var modelName: String
    /// Its model number, as its description says.
    public var modelNumber: String
    /// Where its device description was last read; nil for a gateway that speaks only PCP or NAT-PMP.
    public var descriptionURL: GatewayURL?
    /// The chosen WAN connection service's type; nil without UPnP IGD.
    public var serviceType: WANService?
    /// The chosen service's id.
    public var serviceId: String
    /// Where the chosen service's SOAP actions go; nil without UPnP IGD.
    public var controlURL: GatewayURL?
    /// Why that service was chosen, in words.
    public var serviceChoice: String
    /// The BOOTID.UPNP.ORG it last announced; a new one means it restarted.
    public var bootID: UInt32?
    /// The external address last reported, and its class.
    public var externalAddress: String?
    /// The external address's class (public, private, shared…), for the double-NAT warning.
    public var addressClass: String?
    /// Learned: the gateway accepts only lease 0 (725, or 402 on a non-zero lease).
    public var permanentLeasesOnly: Bool
    /// Learned: how the GetGenericPortMappingEntry walk ended.
    public var listEnd: String?
    /// Learned: whether GetListOfPortMappings answered (nil: not tried).
    public var listOfPortMappingsWorks: Bool?
    /// Learned: how many bytes of a description the gateway keeps.
    public var descriptionLimit: Int?
    /// When it was first recorded.
    public var firstSeen: Date
    /// When it last answered.
    public var lastSeen: Date
    /// Where PCP or NAT-PMP answered (its LAN address, UDP 5351); nil when neither was seen.
    public var portControlServer: IPv4Address?
    /// PCP answered there.
    public var speaksPCP: Bool
    /// NAT-PMP answered there.
    public var speaksNATPMP: Bool
    /// The gateway's hardware address, from the neighbour table, when known.
    public var hardwareAddress: String?
    /// The protocol the user chose for its mappings (`add --protocol`); nil: portkeeper's choice.
    public var declaredProtocol: GatewayProtocol?
    /// The PCP/NAT-PMP server's epoch as last seen, and when (the reboot check across runs).
    public var serverEpoch: (seconds: UInt32, seen: Date)? {
        get { serverEpochSeconds.flatMap { seconds in serverEpochSeen.map { (seconds, $0) } } }
        set { serverEpochSeconds = newValue?.seconds; serverEpochSeen = newValue?.seen }
    }
    var serverEpochSeconds: UInt32?
    var serverEpochSeen: Date?

    /// A record with every field given; the registry makes these, tests and other stores may too.
    public init(
        id: Int64, udn: String, friendlyName: String, manufacturer: String, modelName: String, modelNumber: String,
        descriptionURL: GatewayURL?, serviceType: WANService?, serviceId: String, controlURL: GatewayURL?, serviceChoice: String,
        bootID: UInt32? = nil, externalAddress: String? = nil, addressClass: String? = nil, permanentLeasesOnly: Bool = false,
        listEnd: String? = nil, listOfPortMappingsWorks: Bool? = nil, descriptionLimit: Int? = nil, firstSeen: Date, lastSeen: Date,
        portControlServer: IPv4Address? = nil, speaksPCP: Bool = false, speaksNATPMP: Bool = false, hardwareAddress: String? = nil,
        declaredProtocol: GatewayProtocol? = nil
    ) {
        self.id = id
        self.udn = udn
        self.friendlyName = friendlyName
        self.manufacturer = manufacturer
        self.modelName = modelName
        self.modelNumber = modelNumber
        self.descriptionURL = descriptionURL
        self.serviceType = serviceType
        self.serviceId = serviceId
        self.controlURL = controlURL
        self.serviceChoice = serviceChoice
        self.bootID = bootID
        self.externalAddress = externalAddress
        self.addressClass = addressClass
        self.permanentLeasesOnly = permanentLeasesOnly
        self.listEnd = listEnd
        self.listOfPortMappingsWorks = listOfPortMappingsWorks
        self.descriptionLimit = descriptionLimit
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.portControlServer = portControlServer
        self.speaksPCP = speaksPCP
        self.speaksNATPMP = speaksNATPMP
        self.hardwareAddress = hardwareAddress
        self.declaredProtocol = declaredProtocol
    }

    /// The chosen WAN connection service, where UPnP IGD actions go; nil without UPnP IGD.
    public var service: ConnectionService? {
        guard let serviceType, let controlURL else { return nil }
        return ConnectionService(type: serviceType, serviceId: serviceId, controlURL: controlURL, deviceUDN: udn)
    }

    /// The protocols it was seen answering.
    public var protocols: Set<GatewayProtocol> {
        var found: Set<GatewayProtocol> = []
        if service != nil { found.insert(.upnp) }
        if speaksPCP { found.insert(.pcp) }
        if speaksNATPMP { found.insert(.natPMP) }
        return found
    }

    /// The protocol its mappings are made over, and why (``GatewayProtocol/preferred(among:declared:)``).
    public var mappingProtocol: (GatewayProtocol, reason: String) {
        GatewayProtocol.preferred(among: protocols, declared: declaredProtocol) ?? (.upnp, "no protocol was seen answering")
    }

    /// Its LAN address: where its UPnP control URL points, else where PCP or NAT-PMP answered.
    public var lanAddress: IPv4Address? { controlURL?.host ?? portControlServer }

    /// Where to read about it: its description URL, or its PCP/NAT-PMP server.
    public var location: String {
        if let descriptionURL { return descriptionURL.description }
        return portControlServer.map { "\($0):5351" } ?? "-"
    }
}

/// A gateway as just found on the network, to be recorded.
public struct ObservedGateway: Sendable, Equatable {
    /// A WAN connection service the description offers.
    public struct Service: Sendable, Equatable {
        /// Its type (WANIPConnection or WANPPPConnection, and the version).
        public var serviceType: WANService
        /// Its id in the description.
        public var serviceId: String
        /// Where its SOAP actions go.
        public var controlURL: GatewayURL
        /// A service of `serviceType` controlled at `controlURL`.
        public init(serviceType: WANService, serviceId: String, controlURL: GatewayURL) {
            self.serviceType = serviceType
            self.serviceId = serviceId
            self.controlURL = controlURL
        }
    }

    /// The root device's UDN.
    public var udn: String
    /// The name it gives itself.
    public var friendlyName: String
    /// Its manufacturer.
    public var manufacturer: String
    /// Its model.
    public var modelName: String
    /// Its model number.
    public var modelNumber: String
    /// Where its description was read.
    public var descriptionURL: GatewayURL
    /// Every WAN connection service it offers.
    public var services: [Service]
    /// The one port mappings go to.
    public var chosen: Service
    /// Why that one, in words.
    public var serviceChoice: String
    /// The BOOTID it announced, if any.
    public var bootID: UInt32?
    /// Its external address, when it told it.
    public var externalAddress: ExternalAddress?

    /// A gateway as found, every field given.
    public init(
        udn: String, friendlyName: String, manufacturer: String, modelName: String, modelNumber: String,
        descriptionURL: GatewayURL, services: [Service], chosen: Service, serviceChoice: String,
        bootID: UInt32?, externalAddress: ExternalAddress?
    ) {
        self.udn = udn
        self.friendlyName = friendlyName
        self.manufacturer = manufacturer
        self.modelName = modelName
        self.modelNumber = modelNumber
        self.descriptionURL = descriptionURL
        self.services = services
        self.chosen = chosen
        self.serviceChoice = serviceChoice
        self.bootID = bootID
        self.externalAddress = externalAddress
    }
}

/// One revision, as `history` shows it.
public struct RevisionRecord: Sendable, Equatable, Codable {
    /// Its number, counting up from 1.
    public var number: Int64
    /// When it was made.
    public var time: Date
    /// The command line (or program) that made it.
    public var command: String
    /// Who made it: the CLI or `watch`.
    public var actor: RevisionActor
    /// The gateway it concerns; nil for one that concerns none.
    public var gatewayID: Int64?
    /// What it did, in one line.
    public var summary: String
    /// What it changed and found, in order.
    public var changes: [Change]
}

/// How an operation on the gateway ended.
public enum OperationOutcome: Sendable, Equatable, CustomStringConvertible {
    /// Journaled, not yet known (the process may have died while acting).
    case pending
    /// The gateway did it.
    case ok
    /// The gateway answered this UPnP error code.
    case upnp(Int)
    /// Transport or protocol failure: the gateway may or may not have acted.
    case unknown(String)
    /// Known not to have happened, for another reason.
    case failed(String)

    public var description: String {
        switch self {
        case .pending: return "pending"
        case .ok: return "ok"
        case .upnp(let code): return "upnp:\(code)"
        case .unknown(let why): return why.isEmpty ? "unknown" : "unknown:\(why)"
        case .failed(let why): return "failed:\(why)"
        }
    }

    /// The outcome a stored text says, or nil when it says none (a damaged row).
    init?(stored text: String) {
        switch text {
        case "pending": self = .pending
        case "ok": self = .ok
        case "unknown": self = .unknown("")
        default:
            if text.hasPrefix("upnp:"), let code = Int(text.dropFirst(5)) {
                self = .upnp(code)
            } else if text.hasPrefix("failed:") {
                self = .failed(String(text.dropFirst(7)))
            } else if text.hasPrefix("unknown:") {
                self = .unknown(String(text.dropFirst(8)))
            } else {
                return nil
            }
        }
    }

    var stored: String { description }
}

/// The kind of action journaled.
public enum OperationAction: String, Sendable, Codable {
    /// A mapping written (AddPortMapping).
    case add = "AddPortMapping"
    /// A mapping removed (DeletePortMapping).
    case delete = "DeletePortMapping"
}

/// Why an entry is deleted: rollback re-creates the entries `--prune` or `--force` deleted.
public enum DeleteReason: String, Sendable, Codable {
    /// portkeeper created it and it is no longer declared.
    case noLongerDeclared = "no-longer-declared"
    /// Another program's, removed with `--prune`.
    case pruned
    /// Another client's, holding a declared port, replaced with `--force`.
    case replaced
    /// The mapping moved to a new client (this host's address changed).
    case moved
}

/// One journaled operation.
public struct JournaledOperation: Sendable, Equatable {
    /// Its number in the journal.
    public var id: Int64
    /// The revision it belongs to.
    public var revision: Int64
    /// The gateway it was sent to.
    public var gatewayID: Int64
    /// Add or delete.
    public var action: OperationAction
    /// The mapping it concerns.
    public var key: MappingKey
    /// For an add, the entry sent.
    public var entry: PortMappingEntry?
    /// For a delete, why.
    public var deleteReason: DeleteReason?
    /// The entry as it was on the gateway before acting, if there was one.
    public var before: PortMappingEntry?
    /// How it ended, or that it is not known yet.
    public var outcome: OperationOutcome
}
