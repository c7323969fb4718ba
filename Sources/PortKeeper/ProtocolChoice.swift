/// Which protocol portkeeper uses with a gateway, and why.
public struct ProtocolChoice: Sendable, Equatable {
    /// The protocol.
    public var `protocol`: GatewayProtocol
    /// Why, in words ("UPnP IGD answers and can list the table, so drift is visible").
    public var reason: String

    /// A choice of `protocol` for `reason`.
    public init(protocol: GatewayProtocol, reason: String) {
        self.protocol = `protocol`
        self.reason = reason
    }

    /// The protocol to use with a gateway that answered discovery over `upnp`, `pcp` and
    /// `natPMP`: the one the user declared for it, else UPnP IGD where it answers (it can list
    /// the table, so drift is visible), else PCP, else NAT-PMP (`GatewayProtocol.preferred`).
    /// Nil when nothing answered and nothing was declared.
    public static func preferredProtocol(upnp: Bool, pcp: Bool, natPMP: Bool, declared: GatewayProtocol? = nil) -> ProtocolChoice? {
        var available: Set<GatewayProtocol> = []
        if upnp { available.insert(.upnp) }
        if pcp { available.insert(.pcp) }
        if natPMP { available.insert(.natPMP) }
        return GatewayProtocol.preferred(among: available, declared: declared).map { ProtocolChoice(protocol: $0.0, reason: $0.reason) }
    }
}
