import Foundation
import IGDProtocol
@testable import MappingRegistry
import PCPProtocol
@testable import PortKeeper
import Synchronization

/// A gateway for the watch loop, in memory: it answers or not, loses mappings, reboots and
/// grants a lease; each look it gets is noted with the manual clock's time.
final class FakeWatchTarget: WatchTarget {
    enum Look: Equatable {
        case uptime
        case quickCheck
        case reconcile(rediscover: Bool)
    }

    struct Gone: Error {}

    struct State {
        var answering = true
        var uptime: UInt32 = 1000
        /// How many mappings are declared on the gateway.
        var declared = 1
        /// Declared mappings the gateway lost: a reconcile restores them.
        var missing = 0
        /// Declared mappings another client holds: a reconcile cannot restore them.
        var held = 0
        /// The one declared mapping's lease, when it has one: its length and when it was written.
        var lease: (length: UInt32, writtenAt: ManualClock.Instant)?
        var looks: [(look: Look, at: ManualClock.Instant)] = []
        var revision: Int64 = 0
        /// What each reconcile's stop question said.
        var stopAnswers: [Bool] = []
    }

    let clock: ManualClock
    let record: GatewayRecord
    let state = Mutex(State())
    /// Run at the start of every reconcile with its number (from 1): a test holds one there, or
    /// makes it fail.
    let beforeReconcile = Mutex<(@Sendable (Int) async throws -> Void)?>(nil)
    private let notifications: AsyncStream<SSDP.Notify>
    private let notify: AsyncStream<SSDP.Notify>.Continuation
    private let serverAnnouncements: AsyncStream<ServerAnnouncement>
    private let serverAnnounce: AsyncStream<ServerAnnouncement>.Continuation

    init(clock: ManualClock) {
        self.clock = clock
        record = GatewayRecord(
            id: 1, udn: "uuid:fake-gateway", friendlyName: "Fake", manufacturer: "", modelName: "", modelNumber: "",
            descriptionURL: GatewayURL(host: IPv4Address(192, 0, 2, 1), port: 5000, target: "/rootDesc.xml"), serviceType: .ipConnection2,
            serviceId: "", controlURL: GatewayURL(host: IPv4Address(192, 0, 2, 1), port: 5000, target: "/ctl/IPConn"), serviceChoice: "", bootID: 1, externalAddress: nil,
            addressClass: nil, permanentLeasesOnly: false, listEnd: nil, listOfPortMappingsWorks: nil,
            descriptionLimit: nil, firstSeen: Date(), lastSeen: Date())
        (notifications, notify) = AsyncStream<SSDP.Notify>.makeStream()
        (serverAnnouncements, serverAnnounce) = AsyncStream<ServerAnnouncement>.makeStream()
    }

    var looks: [(look: Look, at: ManualClock.Instant)] { state.withLock { $0.looks } }

    func update(_ change: (inout State) -> Void) {
        state.withLock { change(&$0) }
    }

    /// Sends an announcement from the gateway, as its NOTIFY would arrive.
    func announce(_ kind: String, bootID: UInt32 = 1, location: String? = nil) throws {
        var text = "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"
        text += "LOCATION: \(location ?? record.location)\r\n"
        text += "NT: upnp:rootdevice\r\nNTS: \(kind)\r\nUSN: \(record.udn)::upnp:rootdevice\r\nBOOTID.UPNP.ORG: \(bootID)\r\n\r\n"
        guard let parsed = try SSDP.parseNotify(Array(text.utf8)) else { throw Gone() }
        notify.yield(parsed)
    }

    /// Sends its PCP server's unsolicited ANNOUNCE, as the listener would yield it.
    func announceEpoch(_ seconds: UInt32) {
        serverAnnounce.yield(ServerAnnouncement(via: .pcp, epochSeconds: seconds))
    }

    private func note(_ look: Look) -> State {
        let now = clock.now
        return state.withLock { state in
            state.looks.append((look, now))
            return state
        }
    }

    /// When the lease falls due, by what the gateway would say is left of it.
    private func renewal(_ state: State) -> Duration? {
        guard let lease = state.lease else { return nil }
        let elapsed = lease.writtenAt.duration(to: clock.now).components.seconds
        let left = UInt32(max(0, Int64(lease.length) - elapsed))
        let entry = PortMappingEntry(externalPort: 9000, protocol: .tcp, internalPort: 9000, internalClient: "192.0.2.10",
                                     description: "fake", leaseDuration: left)
        return Planner.renewalDue(declaredLease: lease.length, current: entry)
    }

    func find(_ reference: String?) async throws -> (gateway: GatewayRecord, declared: Int) {
        (record, state.withLock { $0.declared })
    }

    func current(_ gateway: GatewayRecord) throws -> GatewayRecord {
        gateway
    }

    func uptime(of gateway: GatewayRecord) async throws -> UInt32? {
        let state = note(.uptime)
        return state.answering ? state.uptime : nil
    }

    func quickCheck(_ gateway: GatewayRecord) async throws -> (inSync: Bool, nextRenewal: Duration?, declared: Int) {
        let state = note(.quickCheck)
        guard state.answering else { throw Gone() }
        let due = renewal(state)
        return (state.missing == 0 && state.held == 0 && due != .zero, due, state.declared)
    }

    func reconcile(_ gateway: GatewayRecord, rediscover: Bool,
                   shouldStop: @escaping @Sendable () -> Bool) async throws -> WatchReconcile {
        let count = note(.reconcile(rediscover: rediscover)).looks.filter { if case .reconcile = $0.look { true } else { false } }.count
        try await beforeReconcile.withLock { $0 }?(count)
        let stopping = shouldStop()
        let now = clock.now
        return try state.withLock { state in
            state.stopAnswers.append(stopping)
            guard state.answering else { throw Gone() }
            if stopping { return WatchReconcile(gateway: gateway, inSync: false, stopped: true) }
            var changes: [Change] = []
            for index in 0..<state.missing {
                let key = MappingKey(protocol: .tcp, externalPort: UInt16(9001 + index))
                changes += [Change(.foundMissing, key, "lost"), Change(.added, key, "→ this host:\(key.externalPort)")]
            }
            state.missing = 0
            if let lease = state.lease, renewal(state) == .zero {
                changes.append(Change(.renewed, MappingKey(protocol: .tcp, externalPort: 9000), "lease \(lease.length) s"))
                state.lease?.writtenAt = now
            }
            if !changes.isEmpty { state.revision += 1 }
            return WatchReconcile(gateway: gateway, revision: changes.isEmpty ? nil : state.revision, changes: changes,
                                  inSync: state.held == 0, nextRenewal: renewal(state), declared: state.declared, missing: state.held)
        }
    }

    func announcements(of gateway: GatewayRecord) async throws -> Announcements {
        Announcements(notifications: notifications, serverAnnouncements: serverAnnouncements, stop: {})
    }
}

/// A watcher running on a fake gateway and a manual clock; checks every 60 s without jitter
/// unless told otherwise.
struct WatchRun {
    let clock: ManualClock
    let target: FakeWatchTarget
    let log = EventLog()
    let stop = StopRequest()
    private let running: Task<Void, any Error>

    /// Told each event too, before the log (a struct, so that a trailing closure stays `setUp`).
    struct Observer: Sendable {
        var told: @Sendable (WatchEvent) -> Void
    }

    init(interval: Duration = .seconds(60), clock: ManualClock = ManualClock(), observer: Observer? = nil,
         _ setUp: (FakeWatchTarget, inout Watcher) -> Void = { _, _ in }) {
        self.clock = clock
        target = FakeWatchTarget(clock: clock)
        var watcher = Watcher(target: target, reference: nil, interval: interval)
        watcher.clock = clock
        watcher.jitter = 0
        setUp(target, &watcher)
        let (log, stop) = (self.log, self.stop)
        running = Task { [watcher] in
            try await watcher.run(stop: stop) { event in
                observer?.told(event)
                log.record(event)
            }
        }
    }

    /// Waits until the loop sleeps, and wakes it at its deadline.
    /// - Returns: the deadline.
    @discardableResult
    func advanceToNextSleep() async throws -> ManualClock.Instant {
        let deadline = try await clock.nextSleep()
        clock.advance(to: deadline)
        return deadline
    }

    /// Requests a stop and waits for the watch to end.
    func finish() async throws {
        stop.request()
        try await running.value
    }

    /// Waits for the watch to end by itself.
    func ended() async throws {
        try await running.value
    }
}
