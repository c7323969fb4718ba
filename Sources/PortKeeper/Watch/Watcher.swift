import MappingRegistry
import PortKeeperModel
import Synchronization

/// A stop request (SIGTERM, SIGINT) that the watch loop honours between operations.
public final class StopRequest: Sendable {
    private let requested = Mutex(false)
    private let wake: AsyncStream<Void>.Continuation
    let wakes: AsyncStream<Void>

    /// A request not made yet.
    public init() {
        (wakes, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks the watch to stop at its next chance (between operations); safe from a signal handler's queue.
    public func request() {
        requested.withLock { $0 = true }
        wake.yield()
    }

    /// Whether a stop was requested.
    public var isRequested: Bool { requested.withLock { $0 } }
}

/// `portkeeper watch`: keeps the declared mappings true, unattended.
///
/// Wakes on a timer (the interval, with jitter), on the gateway's SSDP announcements (a new
/// BOOTID or LOCATION, or a byebye, means it restarted or moved) or its PCP/NAT-PMP server's
/// (an announced epoch means it restarted), and when a lease is half
/// gone; each wake is a look at the gateway, and a reconcile with actor `watch` when something
/// differs. Failures back off, capped. `WatchStateMachine` holds these rules; this type does
/// the waiting and the I/O (through a ``WatchTarget``) and tells what happened as
/// ``WatchEvent``s.
public struct Watcher: Sendable {
    /// What the watch looks at and reconciles.
    public var target: any WatchTarget
    /// The gateway to watch, as `--gateway` takes it; nil: the one known.
    public var reference: String?
    /// The time between periodic checks.
    public var interval: Duration
    /// ± this fraction of the interval, so that many watchers do not beat in step.
    public var jitter = 0.1
    /// The longest wait after failures.
    public var maxBackoff: Duration = .seconds(300)
    /// Off: rely on the periodic check alone.
    public var listenForAnnouncements = true
    /// While the gateway is away (after its byebye, or not answering right after an
    /// announcement), the first re-check comes this soon; each failed one doubles it, up to the
    /// interval. Any announcement from the gateway ends the wait at once.
    public var awayPoll: Duration = .seconds(1)
    /// What the waits are timed on; tests move a manual clock by hand.
    public var clock: any Clock<Duration> = ContinuousClock()
    /// Where the jitter comes from.
    public var random: any RandomNumberGenerator & Sendable = SystemRandomNumberGenerator()

    /// A watch over `target`, checking the gateway `reference` names every `interval`.
    public init(target: any WatchTarget, reference: String?, interval: Duration) {
        self.target = target
        self.reference = reference
        self.interval = interval
    }

    /// A watch over `keeper`'s registry and gateway.
    public init(keeper: Keeper, reference: String?, interval: Duration) {
        self.init(target: KeeperWatchTarget(keeper: keeper), reference: reference, interval: interval)
    }

    /// Runs until `stop` is requested; returns normally then (the journal complete, the lock
    /// released).
    /// - Parameters:
    ///   - stop: asked between operations; once requested, the watch ends.
    ///   - events: told each event as it happens, in order.
    /// - Throws: when the gateway is not found at the start, or a `RegistryError` that waiting
    ///   cannot mend (a damaged registry, or one a newer portkeeper wrote).
    public func run(stop: StopRequest, events: @escaping @Sendable (WatchEvent) -> Void) async throws {
        try await run(stop: stop, on: clock, events: events)
    }

    func run<C: Clock<Duration>>(stop: StopRequest, on clock: C, events: @escaping @Sendable (WatchEvent) -> Void) async throws {
        let (record, declared) = try await target.find(reference)
        events(.started(gateway: record.friendlyName, udn: record.udn, declared: declared, interval: interval))
        let policy = WatchStateMachine<C.Instant>.Policy(interval: interval, jitter: jitter, maxBackoff: maxBackoff, awayPoll: awayPoll)
        var loop = WatchLoop(watcher: self, clock: clock, stop: stop, emit: events, record: record,
                             machine: WatchStateMachine(policy: policy, random: random, bootID: record.bootID, now: clock.now))
        try await loop.run()
    }

    /// Whether a registry error ends the watch: retrying cannot help a damaged file, another
    /// program's, or a newer portkeeper's.
    static func endsWatch(_ error: RegistryError) -> Bool {
        [.corrupt, .notADatabase, .newerVersion].contains(error.kind)
    }
}

/// One run of the watch: the waiting and the I/O around a ``WatchStateMachine``.
///
/// What wakes it runs as child tasks of one task group (stop requests, announcements), each
/// posting into one stream; each wait adds a timer child for the machine's deadline and ends it.
struct WatchLoop<C: Clock<Duration>> {
    let watcher: Watcher
    let clock: C
    let stop: StopRequest
    let emit: @Sendable (WatchEvent) -> Void
    /// The gateway as last seen.
    var record: GatewayRecord
    var machine: WatchStateMachine<C.Instant>
    var listening: Announcements?

    /// What comes after a look.
    enum Step {
        case wait
        case stop
        /// A registry that waiting cannot mend ends the watch with its error.
        case fatal(RegistryError)
    }

    mutating func run() async throws {
        let (wakes, post) = AsyncStream<Wake>.makeStream(bufferingPolicy: .bufferingNewest(16))
        let ending = await withTaskGroup(of: Void.self, returning: Step.self) { sources in
            let stop = self.stop
            sources.addTask { for await _ in stop.wakes { post.yield(.stop) } }
            defer { sources.cancelAll() }
            await listen(posting: post, in: &sources)
            var iterator = wakes.makeAsyncIterator()
            while true {
                let reason: WakeReason
                switch machine.decide(await nextWake(from: &iterator, posting: post), at: clock.now, location: record.location) {
                case .stop:
                    return .stop
                case .ignore:
                    continue
                case .check(let why, let announced):
                    if let announced { emit(announced) }
                    if case .announcedEpoch(let seconds, _)? = announced {
                        // Told before the look, so that it counts the mappings as lost.
                        try? watcher.target.serverAnnounced(epoch: seconds, of: record)
                    }
                    reason = why
                }
                if stop.isRequested { return .stop }
                let listenedTo = (record.controlURL, record.portControlServer)
                let step = await check(reason)
                guard case .wait = step else { return step }
                if record.controlURL != listenedTo.0 || record.portControlServer != listenedTo.1 { await listen(posting: post, in: &sources) }
            }
        }
        await listening?.stop()
        if case .fatal(let error) = ending { throw error }
        emit(.stopped)
    }

    /// Waits for the next wake: an announcement, a stop request, or the deadline (a timer child
    /// posts `.timer` when it passes, and is gone when this returns).
    private func nextWake(from iterator: inout AsyncStream<Wake>.Iterator, posting post: AsyncStream<Wake>.Continuation) async -> Wake {
        if stop.isRequested { return .stop }
        let (clock, deadline) = (self.clock, machine.deadline)
        return await withTaskGroup(of: Void.self) { timer in
            timer.addTask {
                if (try? await clock.sleep(until: deadline, tolerance: nil)) != nil { post.yield(.timer) }
            }
            defer { timer.cancelAll() }
            return await iterator.next() ?? .stop
        }
    }

    /// Looks at the gateway for `reason`, tells what it found and did, and sets the next deadline.
    private mutating func check(_ reason: WakeReason) async -> Step {
        var reason = reason
        let target = watcher.target
        do {
            record = try target.current(record)
            if let uptime = try await target.uptime(of: record), let reboot = machine.readUptime(uptime) {
                emit(reboot)
                reason = .restart
            }
            if WatchStateMachine<C.Instant>.startsWithQuickCheck(reason), let look = try? await target.quickCheck(record), look.inSync {
                emit(.verified(gateway: record.friendlyName))
                emit(.checked(gateway: record.friendlyName, udn: record.udn, declared: look.declared, missing: 0))
                machine.succeeded(nextRenewal: look.nextRenewal, at: clock.now)
                return .wait
            }
            let stop = self.stop
            let result = try await target.reconcile(record, rediscover: machine.rediscovers(after: reason), shouldStop: { stop.isRequested })
            record = result.gateway
            machine.answered()
            WatchEvent.events(of: result, reason: reason).forEach(emit)
            if result.stopped { return .stop }
            // It stopped answering mid-way: as any failure.
            if let unreachable = result.unreachable { throw unreachable }
            emit(.checked(gateway: record.friendlyName, udn: record.udn, declared: result.declared, missing: result.missing))
            machine.succeeded(nextRenewal: result.nextRenewal, at: clock.now)
            return .wait
        } catch let error as RegistryError where Watcher.endsWatch(error) {
            return .fatal(error)
        } catch {
            switch machine.failed(after: reason, at: clock.now) {
            case .away(_, let first):
                if first { emit(.away(afterByebye: reason == .byebye)) }
            case .retry(let delay):
                emit(.retrying(error: error, after: delay))
            }
            return .wait
        }
    }

    /// Listens for the gateway's announcements (again, after it moved): each one a wake.
    private mutating func listen(posting post: AsyncStream<Wake>.Continuation, in sources: inout TaskGroup<Void>) async {
        await listening?.stop()
        listening = nil
        guard watcher.listenForAnnouncements else { return }
        do {
            let announcements = try await watcher.target.announcements(of: record)
            listening = announcements
            sources.addTask { for await notify in announcements.notifications { post.yield(.announcement(notify)) } }
            sources.addTask { for await announced in announcements.serverAnnouncements { post.yield(.serverAnnouncement(announced)) } }
        } catch {
            emit(.notListening(error: error, interval: watcher.interval))
        }
    }
}
