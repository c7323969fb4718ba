import IGDProtocol

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
