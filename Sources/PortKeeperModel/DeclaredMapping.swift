import IGDProtocol

/// Where a declared mapping sends traffic.
public enum InternalClient: Hashable, Sendable, Codable, CustomStringConvertible {
    /// This machine's address on the interface facing the gateway, whatever it is at the time.
    case thisHost
    /// A fixed address on the LAN.
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
    /// What identifies it on the gateway: protocol, external port, remote host.
    public var key: MappingKey
    /// Where it forwards to: this host, or an address on the LAN.
    public var client: InternalClient
    /// The port on the client it forwards to.
    public var internalPort: UInt16
    public var description: String
    /// Seconds; 0 asks for a permanent mapping.
    public var leaseDuration: UInt32
    /// Whether the gateway should forward it (a disabled mapping is kept but not forwarded).
    public var enabled: Bool

    /// A declaration of `key` forwarded to `client`:`internalPort`, permanent and enabled unless said otherwise.
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
