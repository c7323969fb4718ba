import Foundation
import IGDProtocol

/// What identifies a mapping on a gateway: protocol, external port and remote host.
public struct MappingKey: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    public var `protocol`: TransportProtocol
    public var externalPort: UInt16
    /// Empty: any remote host.
    public var remoteHost: String

    public init(protocol: TransportProtocol, externalPort: UInt16, remoteHost: String = "") {
        self.protocol = `protocol`
        self.externalPort = externalPort
        self.remoteHost = remoteHost
    }

    public init(_ entry: PortMappingEntry) {
        self.init(protocol: entry.protocol, externalPort: entry.externalPort, remoteHost: entry.remoteHost)
    }

    /// "8080/tcp", or "8080/tcp from 1.2.3.4".
    public var description: String {
        "\(externalPort)/\(`protocol`.rawValue.lowercased())" + (remoteHost.isEmpty ? "" : " from \(remoteHost)")
    }

    public static func < (a: MappingKey, b: MappingKey) -> Bool {
        (a.externalPort, a.protocol.rawValue, a.remoteHost) < (b.externalPort, b.protocol.rawValue, b.remoteHost)
    }
}

/// Where a declared mapping sends traffic.
public enum InternalClient: Hashable, Sendable, Codable, CustomStringConvertible {
    /// This machine's address on the interface facing the gateway, whatever it is at the time.
    case thisHost
    case address(IPv4Address)

    public var description: String {
        switch self {
        case .thisHost: return "this host"
        case .address(let address): return address.description
        }
    }
}

/// A mapping the user declared.
public struct DeclaredMapping: Hashable, Sendable, Codable {
    public var key: MappingKey
    public var client: InternalClient
    public var internalPort: UInt16
    public var description: String
    /// Seconds; 0 asks for a permanent mapping.
    public var leaseDuration: UInt32
    public var enabled: Bool

    public init(key: MappingKey, client: InternalClient, internalPort: UInt16, description: String, leaseDuration: UInt32 = 0, enabled: Bool = true) {
        self.key = key
        self.client = client
        self.internalPort = internalPort
        self.description = description
        self.leaseDuration = leaseDuration
        self.enabled = enabled
    }

    /// The entry to send to the gateway, with "this host" resolved to `hostAddress`.
    public func entry(hostAddress: IPv4Address) -> PortMappingEntry {
        let client: IPv4Address
        switch self.client {
        case .thisHost: client = hostAddress
        case .address(let address): client = address
        }
        return PortMappingEntry(
            remoteHost: key.remoteHost, externalPort: key.externalPort, protocol: key.protocol,
            internalPort: internalPort, internalClient: client.description, enabled: enabled,
            description: description, leaseDuration: leaseDuration
        )
    }
}

/// Who made a revision.
public enum RevisionActor: String, Sendable, Codable {
    case cli
    case watch
}

/// One thing a revision changed or found.
public struct Change: Hashable, Sendable, Codable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable {
        // The declaration.
        case declared, undeclared, redeclared
        // What portkeeper did on the gateway.
        case added, deleted, updated, replaced, failed, renewed
        // What portkeeper found on the gateway and did not make.
        case foundMissing = "found-missing"
        case foundChanged = "found-changed"
        case foundForeign = "found-foreign"
        case addressChanged = "address-changed"
        case gatewayMoved = "gateway-moved"
        case hostAddressChanged = "host-address-changed"
        case rolledBack = "rolled-back"
    }

    public var kind: Kind
    public var key: MappingKey?
    public var detail: String

    public init(_ kind: Kind, _ key: MappingKey? = nil, _ detail: String) {
        self.kind = kind
        self.key = key
        self.detail = detail
    }

    public var description: String {
        [kind.rawValue, key?.description, detail].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
    }
}
