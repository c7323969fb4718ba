import Foundation
import IGDProtocol
import PortKeeperModel

/// A gateway as the registry knows it.
public struct GatewayRecord: Sendable, Equatable, Codable {
    public var id: Int64
    public var udn: String
    public var friendlyName: String
    public var manufacturer: String
    public var modelName: String
    public var modelNumber: String
    public var descriptionURL: GatewayURL
    /// The chosen WAN connection service: its type, id and control URL.
    public var serviceType: WANService
    public var serviceId: String
    public var controlURL: GatewayURL
    public var serviceChoice: String
    public var bootID: UInt32?
    /// The external address last reported, and its class.
    public var externalAddress: String?
    public var addressClass: String?
    /// Learned: the gateway accepts only lease 0 (725, or 402 on a non-zero lease).
    public var permanentLeasesOnly: Bool
    /// Learned: how the GetGenericPortMappingEntry walk ended.
    public var listEnd: String?
    /// Learned: whether GetListOfPortMappings answered (nil: not tried).
    public var listOfPortMappingsWorks: Bool?
    /// Learned: how many bytes of a description the gateway keeps.
    public var descriptionLimit: Int?
    public var firstSeen: Date
    public var lastSeen: Date

    public init(
        id: Int64, udn: String, friendlyName: String, manufacturer: String, modelName: String, modelNumber: String,
        descriptionURL: GatewayURL, serviceType: WANService, serviceId: String, controlURL: GatewayURL, serviceChoice: String,
        bootID: UInt32? = nil, externalAddress: String? = nil, addressClass: String? = nil, permanentLeasesOnly: Bool = false,
        listEnd: String? = nil, listOfPortMappingsWorks: Bool? = nil, descriptionLimit: Int? = nil, firstSeen: Date, lastSeen: Date
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
    }

    /// The chosen WAN connection service, where port mappings go.
    public var service: ConnectionService {
        ConnectionService(type: serviceType, serviceId: serviceId, controlURL: controlURL, deviceUDN: udn)
    }
}

/// A gateway as just found on the network, to be recorded.
public struct ObservedGateway: Sendable, Equatable {
    public struct Service: Sendable, Equatable {
        public var serviceType: WANService
        public var serviceId: String
        public var controlURL: GatewayURL
        public init(serviceType: WANService, serviceId: String, controlURL: GatewayURL) {
            self.serviceType = serviceType
            self.serviceId = serviceId
            self.controlURL = controlURL
        }
    }

    public var udn: String
    public var friendlyName: String
    public var manufacturer: String
    public var modelName: String
    public var modelNumber: String
    public var descriptionURL: GatewayURL
    public var services: [Service]
    public var chosen: Service
    public var serviceChoice: String
    public var bootID: UInt32?
    public var externalAddress: ExternalAddress?

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
    public var number: Int64
    public var time: Date
    public var command: String
    public var actor: RevisionActor
    public var gatewayID: Int64?
    public var summary: String
    public var changes: [Change]
}

/// How an operation on the gateway ended.
public enum OperationOutcome: Sendable, Equatable, CustomStringConvertible {
    /// Journaled, not yet known (the process may have died while acting).
    case pending
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
    case add = "AddPortMapping"
    case delete = "DeletePortMapping"
}

/// Why an entry is deleted: rollback re-creates the entries `--prune` or `--force` deleted.
public enum DeleteReason: String, Sendable, Codable {
    case noLongerDeclared = "no-longer-declared"
    case pruned
    case replaced
    case moved
}

/// One journaled operation.
public struct JournaledOperation: Sendable, Equatable {
    public var id: Int64
    public var revision: Int64
    public var gatewayID: Int64
    public var action: OperationAction
    public var key: MappingKey
    /// For an add, the entry sent.
    public var entry: PortMappingEntry?
    /// For a delete, why.
    public var deleteReason: DeleteReason?
    /// The entry as it was on the gateway before acting, if there was one.
    public var before: PortMappingEntry?
    public var outcome: OperationOutcome
}
