import IGDProtocol
import MappingRegistry
import PCPProtocol
import PortKeeperModel

/// What `watch` needs from the domain: find its gateway, look at it cheaply, reconcile it, read
/// its uptime, and hear its announcements. ``KeeperWatchTarget`` is the one over ``Keeper``;
/// tests put a fake in its place.
public protocol WatchTarget: Sendable {
    /// Finds the gateway to watch (the registry, else discovery).
    /// - Returns: its record and how many mappings are declared on it.
    func find(_ reference: String?) async throws -> (gateway: GatewayRecord, declared: Int)

    /// The gateway as the registry holds it now (another process may have recorded a move).
    func current(_ gateway: GatewayRecord) throws -> GatewayRecord

    /// The gateway's uptime in seconds; nil when it does not say.
    /// - Throws: when the record names no control endpoint that can be asked.
    func uptime(of gateway: GatewayRecord) async throws -> UInt32?

    /// The cheapest look: whether the gateway holds what is declared, when the next lease falls
    /// due, and how many mappings are declared on it.
    func quickCheck(_ gateway: GatewayRecord) async throws -> (inSync: Bool, nextRenewal: Duration?, declared: Int)

    /// A full reconcile, recorded with actor `watch`.
    /// - Parameters:
    ///   - gateway: the gateway, as last seen.
    ///   - rediscover: search for the gateway by UDN when it does not answer where it was.
    ///   - shouldStop: asked before each operation; yes skips the rest, the journal complete.
    func reconcile(_ gateway: GatewayRecord, rediscover: Bool,
                   shouldStop: @escaping @Sendable () -> Bool) async throws -> WatchReconcile

    /// Starts listening for the gateway's announcements.
    func announcements(of gateway: GatewayRecord) async throws -> Announcements

    /// The gateway's PCP/NAT-PMP server announced its epoch (it restarted), before the look
    /// that follows.
    func serverAnnounced(epoch: UInt32, of gateway: GatewayRecord) throws
}

extension WatchTarget {
    /// Nothing to note by default.
    public func serverAnnounced(epoch: UInt32, of gateway: GatewayRecord) throws {}
}

/// What a reconcile did, as far as `watch` cares.
public struct WatchReconcile: Sendable {
    /// The gateway, where it answered.
    public var gateway: GatewayRecord
    /// The revision that records it; nil when nothing changed.
    public var revision: Int64?
    /// What it did and found.
    public var changes: [Change]
    /// The gateway matches the declaration afterwards.
    public var inSync: Bool
    /// When the first lease falls due; nil when none does.
    public var nextRenewal: Duration?
    /// It ended early on a stop request.
    public var stopped: Bool
    /// The gateway stopped answering mid-way.
    public var unreachable: PortKeeperError?
    /// The operations the gateway refused.
    public var failures: [PortKeeperError]
    /// Entries of the gateway's table that make no sense.
    public var ignored: [InvalidPortMappingEntry]
    /// How many mappings are declared on the gateway.
    public var declared: Int
    /// How many declared mappings the gateway lacks after the reconcile (not added, or held by
    /// another client).
    public var missing: Int

    /// A reconcile's outcome; every field but the gateway defaults to "nothing happened".
    public init(gateway: GatewayRecord, revision: Int64? = nil, changes: [Change] = [], inSync: Bool = true,
                nextRenewal: Duration? = nil, stopped: Bool = false, unreachable: PortKeeperError? = nil,
                failures: [PortKeeperError] = [], ignored: [InvalidPortMappingEntry] = [], declared: Int = 0, missing: Int = 0) {
        self.gateway = gateway
        self.revision = revision
        self.changes = changes
        self.inSync = inSync
        self.nextRenewal = nextRenewal
        self.stopped = stopped
        self.unreachable = unreachable
        self.failures = failures
        self.ignored = ignored
        self.declared = declared
        self.missing = missing
    }
}

/// A gateway's announcements as they arrive, and how to stop listening: its SSDP NOTIFYs (UPnP
/// IGD), or its PCP/NAT-PMP server's epoch announcements.
public struct Announcements: Sendable {
    /// Each SSDP announcement as it arrives.
    public let notifications: AsyncStream<SSDP.Notify>
    /// Each PCP or NAT-PMP announcement as it arrives.
    public let serverAnnouncements: AsyncStream<ServerAnnouncement>
    /// Stops listening and ends both streams.
    public let stop: @Sendable () async -> Void

    /// SSDP announcements from `notifications`, ended by `stop`.
    public init(notifications: AsyncStream<SSDP.Notify>, stop: @escaping @Sendable () async -> Void) {
        self.init(notifications: notifications, serverAnnouncements: AsyncStream { $0.finish() }, stop: stop)
    }

    /// PCP/NAT-PMP announcements from `serverAnnouncements`, ended by `stop`.
    public init(serverAnnouncements: AsyncStream<ServerAnnouncement>, stop: @escaping @Sendable () async -> Void) {
        self.init(notifications: AsyncStream { $0.finish() }, serverAnnouncements: serverAnnouncements, stop: stop)
    }

    /// Announcements from both streams, ended by `stop`.
    public init(notifications: AsyncStream<SSDP.Notify>, serverAnnouncements: AsyncStream<ServerAnnouncement>,
                stop: @escaping @Sendable () async -> Void) {
        self.notifications = notifications
        self.serverAnnouncements = serverAnnouncements
        self.stop = stop
    }
}
