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
