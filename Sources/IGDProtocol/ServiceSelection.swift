/// What probing one WAN connection service found.
public struct ServiceProbe: Sendable, Equatable {
    /// The service probed.
    public var service: ConnectionService
    /// Its GetStatusInfo answer, when it gave one.
    public var status: Actions.StatusInfo?
    /// Its external address, when it gave one.
    public var externalAddress: ExternalAddress?
    /// Why the probe failed, if it did.
    public var failure: String?

    /// What probing `service` found.
    public init(service: ConnectionService, status: Actions.StatusInfo?, externalAddress: ExternalAddress?, failure: String? = nil) {
        self.service = service
        self.status = status
        self.externalAddress = externalAddress
        self.failure = failure
    }

    /// Whether it says it is connected.
    public var isConnected: Bool { status?.connectionStatus.lowercased() == "connected" }
    /// Whether its external address is public.
    public var hasPublicAddress: Bool { externalAddress?.addressClass == .public }
}

/// The service chosen for port mappings, and why.
public struct ServiceChoice: Sendable, Equatable {
    /// The probe of the chosen service.
    public var probe: ServiceProbe
    /// Why it was chosen, in a sentence.
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
    /// The best of `probes` by the order above; nil when there are none.
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
