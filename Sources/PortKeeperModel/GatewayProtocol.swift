/// A protocol a gateway's port mappings can be made over.
public enum GatewayProtocol: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// UPnP IGD (v1 or v2): SOAP over HTTP; can list the gateway's whole table.
    case upnp
    /// PCP (RFC 6887): MAP requests keyed by a nonce; cannot list.
    case pcp
    /// NAT-PMP (RFC 6886): PCP's predecessor; cannot list.
    case natPMP = "natpmp"

    /// "UPnP IGD", "PCP", "NAT-PMP".
    public var description: String {
        switch self {
        case .upnp: "UPnP IGD"
        case .pcp: "PCP"
        case .natPMP: "NAT-PMP"
        }
    }

    /// Whether the gateway's table can be read over it (only UPnP IGD's can).
    public var canList: Bool { self == .upnp }

    /// The protocol portkeeper uses on a gateway that answered over `available`: the one the
    /// user declared when it answered, else UPnP IGD (it can list, so drift is visible), else
    /// PCP, else NAT-PMP; with the reason, in words. Nil when none answered.
    public static func preferred(among available: Set<GatewayProtocol>, declared: GatewayProtocol?) -> (GatewayProtocol, reason: String)? {
        if let declared {
            return available.contains(declared) || available.isEmpty
                ? (declared, "declared with --protocol \(declared.rawValue)")
                : (declared, "declared with --protocol \(declared.rawValue), though it was not seen answering")
        }
        if available.contains(.upnp) { return (.upnp, "UPnP IGD answers and can list the table, so drift is visible") }
        if available.contains(.pcp) { return (.pcp, "PCP answers (UPnP IGD does not)") }
        if available.contains(.natPMP) { return (.natPMP, "NAT-PMP answers (neither UPnP IGD nor PCP does)") }
        return nil
    }
}
