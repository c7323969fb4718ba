import IGDProtocol

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
    /// The mapping as it was before the change, where there was one and it is known
    /// (nil in revisions recorded before portkeeper kept it).
    public var before: MappingState?
    /// The mapping as the change left it (for ``Kind/failed``: as it was asked for); nil when
    /// the change removed it or it is not known.
    public var after: MappingState?

    public init(_ kind: Kind, _ key: MappingKey? = nil, _ detail: String, before: MappingState? = nil, after: MappingState? = nil) {
        self.kind = kind
        self.key = key
        self.detail = detail
        self.before = before
        self.after = after
    }

    public var description: String {
        [kind.rawValue, key?.description, detail].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
    }
}

/// A mapping as a change saw it, the same whether it was on the gateway or in the declaration.
public struct MappingState: Hashable, Sendable, Codable {
    public var `protocol`: TransportProtocol
    public var externalPort: UInt16
    /// Empty: any remote host.
    public var remoteHost: String
    /// An IPv4 address, or "this-host" for a declared mapping that follows this machine's address.
    public var internalClient: String
    public var internalPort: UInt16
    public var enabled: Bool
    public var description: String
    /// Seconds; 0 is permanent.
    public var leaseDuration: UInt32

    /// What the CLI and the registry call a declared mapping's "this host" client.
    public static let thisHost = "this-host"

    /// An entry of a gateway's table.
    public init(_ entry: PortMappingEntry) {
        self.protocol = entry.protocol
        externalPort = entry.externalPort
        remoteHost = entry.remoteHost
        internalClient = entry.internalClient
        internalPort = entry.internalPort
        enabled = entry.enabled
        description = entry.description
        leaseDuration = entry.leaseDuration
    }

    /// A declared mapping ("this-host" for a client that follows this machine).
    public init(_ mapping: DeclaredMapping) {
        self.protocol = mapping.key.protocol
        externalPort = mapping.key.externalPort
        remoteHost = mapping.key.remoteHost
        switch mapping.client {
        case .thisHost: internalClient = Self.thisHost
        case .address(let address): internalClient = address.description
        }
        internalPort = mapping.internalPort
        enabled = mapping.enabled
        description = mapping.description
        leaseDuration = mapping.leaseDuration
    }
}
