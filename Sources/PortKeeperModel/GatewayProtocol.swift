/// A protocol portkeeper speaks to a gateway to make port mappings.
public enum GatewayProtocol: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// UPnP IGD (v1 or v2): can list the router's table.
    case upnp
    /// PCP (RFC 6887).
    case pcp
    /// NAT-PMP (RFC 6886).
    case natpmp

    /// Its usual name: "UPnP IGD", "PCP", "NAT-PMP".
    public var description: String {
        switch self {
        case .upnp: "UPnP IGD"
        case .pcp: "PCP"
        case .natpmp: "NAT-PMP"
        }
    }
}
