import IGDProtocol

/// What identifies a mapping on a gateway: protocol, external port and remote host.
public struct MappingKey: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    /// TCP or UDP.
    public var `protocol`: TransportProtocol
    /// The port on the gateway's external address.
    public var externalPort: UInt16
    /// Empty: any remote host.
    public var remoteHost: String

    /// The key of a mapping of `externalPort`/`protocol`, from any remote host unless `remoteHost` is given.
    public init(protocol: TransportProtocol, externalPort: UInt16, remoteHost: String = "") {
        self.protocol = `protocol`
        self.externalPort = externalPort
        self.remoteHost = remoteHost
    }

    /// The key of a gateway's entry.
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
