import IGDClient
import IGDProtocol
import MappingRegistry
import PCPProtocol
import PortKeeperModel

/// `watch` over ``Keeper``: the registry, the gateway's control endpoint, its SSDP or PCP/NAT-PMP announcements.
public struct KeeperWatchTarget: WatchTarget {
    /// The keeper the watch works through; its actor is `watch`.
    public var keeper: Keeper
    /// Where announcements are listened for; tests use another port without the multicast group.
    public var notifyPort = UPnP.ssdpPort
    /// Whether the listener joins the SSDP multicast group (tests listen on loopback without it).
    public var joinNotifyGroup = true
    /// Where PCP/NAT-PMP announcements are listened for; tests use another port without the multicast group.
    public var announcePort = Int(PCP.announcePort)
    /// Whether the PCP/NAT-PMP listener joins the all-hosts group 224.0.0.1.
    public var joinAnnounceGroup = true

    /// Every change it makes is recorded with actor `watch`.
    public init(keeper: Keeper) {
        var keeper = keeper
        keeper.actor = .watch
        self.keeper = keeper
    }

    /// The gateway `reference` names (``Keeper/gateway(_:)-(String?)``) and how many mappings are declared on it.
    public func find(_ reference: String?) async throws -> (gateway: GatewayRecord, declared: Int) {
        let record = try await keeper.gateway(reference)
        return (record, try keeper.registry.declarations(gatewayID: record.id).count)
    }

    /// The gateway's record as the registry holds it now.
    public func current(_ gateway: GatewayRecord) throws -> GatewayRecord {
        try keeper.registry.gateway(id: gateway.id) ?? gateway
    }

    /// The gateway's uptime from GetStatusInfo; nil when it does not answer it.
    public func uptime(of gateway: GatewayRecord) async throws -> UInt32? {
        guard let service = gateway.service, gateway.mappingProtocol.0 == .upnp else { return nil }
        return try? await keeper.client.perform(Actions.GetStatusInfo(), on: service).uptime
    }

    /// ``Keeper/quickCheck(_:)``.
    public func quickCheck(_ gateway: GatewayRecord) async throws -> (inSync: Bool, nextRenewal: Duration?, declared: Int) {
        try await keeper.quickCheck(gateway)
    }

    /// ``Keeper/reconcile(_:options:revision:restoring:rediscover:shouldStop:progress:)`` with default options, as a ``WatchReconcile``.
    public func reconcile(_ gateway: GatewayRecord, rediscover: Bool,
                          shouldStop: @escaping @Sendable () -> Bool) async throws -> WatchReconcile {
        let report = try await keeper.reconcile(gateway, options: Planner.Options(), rediscover: rediscover, shouldStop: shouldStop)
        return WatchReconcile(gateway: report.gateway, revision: report.revision, changes: report.changes, inSync: report.inSync,
                              nextRenewal: report.nextRenewal, stopped: report.stopped, unreachable: report.unreachable,
                              failures: report.failures.map(\.error), ignored: report.ignored,
                              declared: try keeper.registry.declarations(gatewayID: report.gateway.id).count,
                              missing: report.remaining.adds.count + report.remaining.conflicts.count)
    }

    /// Listens for the gateway's announcements on the interface facing it, from its address
    /// only: SSDP NOTIFYs for a gateway kept over UPnP IGD, its server's PCP ANNOUNCE or
    /// NAT-PMP address announcements (224.0.0.1:5350, from port 5351) for one kept over PCP or NAT-PMP.
    public func announcements(of gateway: GatewayRecord) async throws -> Announcements {
        if gateway.mappingProtocol.0 != .upnp, let server = gateway.portControlServer ?? gateway.lanAddress {
            let local = try LocalAddress.facing(server)
            let listener = try await AnnounceListener.start(interfaceAddress: local, gateway: server, port: announcePort, joinGroup: joinAnnounceGroup)
            return Announcements(serverAnnouncements: listener.announcements, stop: { await listener.stop() })
        }
        guard let host = gateway.controlURL?.host else {
            throw PortKeeperError(.unsupported, "\(gateway.friendlyName) has no UPnP IGD, PCP or NAT-PMP server to announce itself over; it is checked every interval")
        }
        let local = try LocalAddress.facing(host)
        let listener = try await NotifyListener.start(interfaceAddress: local, gateway: host, port: notifyPort, joinGroup: joinNotifyGroup)
        return Announcements(notifications: listener.notifications, stop: { await listener.stop() })
    }

    /// An announced epoch below the one the registry kept is a restart, even within the 2 s of
    /// slack the epoch check of an answer allows (RFC 6887 §8.5, meant for reordered answers; an
    /// announcement is sent because the server lost its state): what portkeeper made there is
    /// marked lost, so that the reconcile that follows restores it and says so.
    public func serverAnnounced(epoch: UInt32, of gateway: GatewayRecord) throws {
        guard gateway.mappingProtocol.0 != .upnp, let kept = try keeper.registry.gateway(id: gateway.id)?.serverEpoch, epoch < kept.seconds else { return }
        try keeper.registry.markPortControlLost(gatewayID: gateway.id)
    }
}
