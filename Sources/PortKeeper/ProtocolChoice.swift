/// Which protocol portkeeper uses with a gateway, and why.
public struct ProtocolChoice: Sendable, Equatable {
    /// The protocol.
    public var `protocol`: GatewayProtocol
    /// Why, in a sentence fragment for `discover` ("UPnP IGD answered: it lists the router's table…").
    public var reason: String

    /// A choice of `protocol` for `reason`.
    public init(protocol: GatewayProtocol, reason: String) {
        self.protocol = `protocol`
        self.reason = reason
    }

    /// The protocol to use with a gateway that answered discovery over `upnp`, `pcp` and
    /// `natPMP`: the one the user declared for it, else UPnP IGD where it answers (it can list
    /// the table, so drift is visible), else PCP, else NAT-PMP. Nil when nothing answered and
    /// nothing was declared.
    public static func preferredProtocol(upnp: Bool, pcp: Bool, natPMP: Bool, declared: GatewayProtocol? = nil) -> ProtocolChoice? {
        let answered: [GatewayProtocol: Bool] = [.upnp: upnp, .pcp: pcp, .natpmp: natPMP]
        if let declared {
            return answered[declared] == true
                ? ProtocolChoice(protocol: declared, reason: "declared for this gateway")
                : ProtocolChoice(protocol: declared, reason: "declared for this gateway, though it did not answer discovery over \(declared)")
        }
        if upnp {
            return ProtocolChoice(protocol: .upnp, reason: "UPnP IGD answered: it lists the router's table, so changes made behind portkeeper's back show")
        }
        if pcp {
            return ProtocolChoice(protocol: .pcp, reason: "PCP answered and UPnP IGD did not")
        }
        if natPMP {
            return ProtocolChoice(protocol: .natpmp, reason: "only NAT-PMP answered")
        }
        return nil
    }
}
