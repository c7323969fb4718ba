/// TCP or UDP. Sent upper-case: some routers reject any other spelling.
public enum TransportProtocol: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case tcp = "TCP"
    case udp = "UDP"

    /// Accepts any case ("tcp", "Udp").
    public init?(caseInsensitive text: String) {
        self.init(rawValue: text.uppercased())
    }

    public var description: String { rawValue }
}

/// One entry of a gateway's port-mapping table, as the gateway reports it.
public struct PortMappingEntry: Sendable, Equatable, Hashable, Codable {
    /// Empty means any remote host (the wildcard).
    public var remoteHost: String
    public var externalPort: UInt16
    public var `protocol`: TransportProtocol
    public var internalPort: UInt16
    public var internalClient: String
    public var enabled: Bool
    public var description: String
    /// Seconds; 0 means permanent (IGDv2 gateways turn it into 604800).
    public var leaseDuration: UInt32

    public init(
        remoteHost: String = "", externalPort: UInt16, protocol: TransportProtocol, internalPort: UInt16,
        internalClient: String, enabled: Bool = true, description: String, leaseDuration: UInt32 = 0
    ) {
        self.remoteHost = remoteHost
        self.externalPort = externalPort
        self.protocol = `protocol`
        self.internalPort = internalPort
        self.internalClient = internalClient
        self.enabled = enabled
        self.description = description
        self.leaseDuration = leaseDuration
    }
}
