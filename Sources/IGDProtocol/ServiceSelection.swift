/// What probing one WAN connection service found.
public struct ServiceProbe: Sendable, Equatable {
    public var service: ConnectionService
    public var status: Actions.StatusInfo?
    public var externalAddress: ExternalAddress?
    /// Why the probe failed, if it did.
    public var failure: String?

    public init(service: ConnectionService, status: Actions.StatusInfo?, externalAddress: ExternalAddress?, failure: String? = nil) {
        self.service = service
        self.status = status
        self.externalAddress = externalAddress
        self.failure = failure
    }

    public var isConnected: Bool { status?.connectionStatus.lowercased() == "connected" }
    public var hasPublicAddress: Bool { externalAddress?.addressClass == .public }
}

/// The service chosen for port mappings, and why.
public struct ServiceChoice: Sendable, Equatable {
    public var probe: ServiceProbe
    public var reason: String
}

/// Chooses the WAN connection service to map ports on.
///
/// Routers like the NTT ADSL Modem-SV3 list several WANPPPConnection services of which one
/// is up. As miniupnpc does, prefer a connected service, then one with a public external
/// address, then the preferred service type (``WANService/preferenceRank``: WANIPConnection:2,
/// :1, WANPPPConnection:2, :1, then the DSL Forum's and other domains' variants), then
/// document order.
public enum ServiceSelection {
    public static func choose(_ probes: [ServiceProbe]) -> ServiceChoice? {
        guard !probes.isEmpty else { return nil }
        func key(_ probe: ServiceProbe, _ offset: Int) -> (Int, Int, Int, Int, Int, Int) {
            let type = probe.service.type.preferenceRank
            return (probe.isConnected ? 0 : 1, probe.hasPublicAddress ? 0 : 1, type.0, type.1, type.2, offset)
        }
        let ranked = probes.enumerated().sorted { a, b in key(a.element, a.offset) < key(b.element, b.offset) }
        let chosen = ranked[0].element
        var reason: String
        if probes.count == 1 {
            reason = "the only WAN connection service"
        } else {
            let connected = probes.filter(\.isConnected).count
            reason = "\(probes.count) WAN connection services, \(connected) connected"
            if chosen.isConnected && connected > 1 {
                reason += chosen.hasPublicAddress ? "; first connected one with a public external address" : "; first connected one"
            } else if chosen.isConnected {
                reason += "; the connected one"
            } else if chosen.hasPublicAddress {
                reason += "; none connected, first with a public external address"
            } else {
                reason += "; none connected, first of the preferred type"
            }
        }
        if let address = chosen.externalAddress { reason += " (external address \(address.reported.isEmpty ? "none" : address.reported))" }
        return ServiceChoice(probe: chosen, reason: reason)
    }
}
