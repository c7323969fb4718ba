import Foundation
import IGDClient
import IGDProtocol
import Logging
import MappingRegistry
import Synchronization

/// A stop request (SIGTERM, SIGINT) that the watch loop honours between operations.
public final class StopRequest: Sendable {
    private let requested = Mutex(false)
    private let wake: AsyncStream<Void>.Continuation
    let wakes: AsyncStream<Void>

    public init() {
        (wakes, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    public func request() {
        requested.withLock { $0 = true }
        wake.yield()
    }

    public var isRequested: Bool { requested.withLock { $0 } }
}

/// `portkeeper watch`: keeps the declared mappings true, unattended.
///
/// Wakes on a timer (the interval, with jitter), on the gateway's SSDP announcements (a new
/// BOOTID or LOCATION, or a byebye, means it restarted or moved), and when a lease is half
/// gone; each wake is a reconcile with actor `watch`. Failures back off, capped.
public struct Watcher: Sendable {
    public var keeper: Keeper
    public var reference: String?
    public var interval: Duration
    /// ± this fraction of the interval, so that many watchers do not beat in step.
    public var jitter = 0.1
    public var maxBackoff: Duration = .seconds(300)
    /// Where announcements are listened for; tests use another port without the multicast group.
    public var notifyPort = UPnP.ssdpPort
    public var joinNotifyGroup = true
    /// Off: rely on the periodic check alone.
    public var listenForAnnouncements = true
    /// While the gateway is away (after its byebye, or not answering right after an
    /// announcement), the first re-check comes this soon; each failed one doubles it, up to the
    /// interval. Any announcement from the gateway ends the wait at once.
    public var awayPoll: Duration = .seconds(1)
    let logger: Logger

    public init(keeper: Keeper, reference: String?, interval: Duration, logger: Logger = Logger(label: "portkeeper.watch")) {
        var keeper = keeper
        keeper.actor = .watch
        self.keeper = keeper
        self.reference = reference
        self.interval = interval
        self.logger = logger
    }

    enum Wake: Sendable {
        case timer
        case announcement(SSDP.Notify)
        case stop
    }

    /// Runs until `stop` is requested; returns normally then (the journal complete, the lock
    /// released).
    public func run(stop: StopRequest) async throws {
        var record = try await keeper.gateway(reference)
        let declared = try keeper.registry.declarations(gatewayID: record.id).count
        logger.info("started: watching \(record.friendlyName) (\(record.udn)), \(declared) declared mappings, every \(interval.secondsText)")

        let (wakes, wake) = AsyncStream<Wake>.makeStream(bufferingPolicy: .bufferingNewest(16))
        let stopForwarder = Task {
            for await _ in stop.wakes { wake.yield(.stop) }
        }
        defer { stopForwarder.cancel() }
        if stop.isRequested { wake.yield(.stop) }

        var listener: NotifyListener?
        var listening: Task<Void, Never>?
        func listen() async {
            await listener?.stop()
            listening?.cancel()
            listener = nil
            guard listenForAnnouncements else { return }
            do {
                let gatewayURL = try GatewayURL(parsing: record.controlURL)
                let local = try LocalAddress.facing(gatewayURL.host)
                let started = try await NotifyListener.start(interfaceAddress: local, gateway: gatewayURL.host, port: notifyPort, joinGroup: joinNotifyGroup)
                listener = started
                listening = Task {
                    for await notify in started.notifications { wake.yield(.announcement(notify)) }
                }
            } catch {
                logger.warning("cannot listen for the gateway's announcements (\(error)); relying on the \(interval.secondsText) check")
            }
        }
        await listen()
        defer { listening?.cancel() }

        var bootID = record.bootID
        var lastUptime: UInt32?
        var backoff = interval
        var next = ContinuousClock.now
        var timer: Task<Void, Never>?

        func schedule(after delay: Duration) {
            timer?.cancel()
            next = ContinuousClock.now + delay
            let deadline = next
            timer = Task {
                try? await Task.sleep(until: deadline, clock: .continuous)
                if !Task.isCancelled { wake.yield(.timer) }
            }
        }
        defer { timer?.cancel() }

        schedule(after: .zero)
        // A gateway sends its announcements in bursts (one per device and service type, often
        // twice): the first of a burst triggers a check, the same news again within a second
        // does not. A byebye followed by an alive with a new BOOTID is new news.
        var lastAnnouncement: (news: String, at: ContinuousClock.Instant)?
        // Set while the gateway is away: the delay before the next re-check.
        var away: Duration?
        // A registry that waiting cannot mend (damaged, or replaced by a newer portkeeper's) ends
        // the watch with its error instead of a retry every few minutes.
        var fatal: RegistryError?
        loop: for await event in wakes {
            var reason = "check"
            switch event {
            case .stop:
                break loop
            case .timer:
                reason = away == nil ? "check" : "away"
            case .announcement(let notify)
                where lastAnnouncement.map({ $0.news == Self.news(notify) && ContinuousClock.now - $0.at < .seconds(1) }) ?? false:
                continue loop
            case .announcement(let notify):
                if notify.kind == .byebye {
                    logger.info("gateway announced it is leaving (ssdp:byebye); checking now")
                    reason = "byebye"
                } else if let id = notify.bootID, let known = bootID, id != known {
                    logger.info("gateway restarted (BOOTID \(known) → \(id)); checking now")
                    reason = "reboot"
                } else if let location = notify.location, location != record.descriptionURL {
                    logger.info("gateway moved (LOCATION \(location)); checking now")
                    reason = "moved"
                } else if away != nil {
                    // Back with the same BOOTID (or none): still news while we wait for it,
                    // whether it arrived before or after the check that found it gone.
                    logger.info("gateway announced itself again; checking now")
                    reason = "returned"
                } else {
                    if bootID == nil { bootID = notify.bootID }
                    continue loop
                }
                if let id = notify.bootID { bootID = id }
                lastAnnouncement = (Self.news(notify), ContinuousClock.now)
            }
            if stop.isRequested { break loop }

            do {
                record = try keeper.registry.gateway(id: record.id) ?? record
                // GetStatusInfo's uptime going down means a reboot, even without an announcement.
                let service = try keeper.service(of: record)
                var rebootedByUptime = false
                if let status = try? await keeper.client.perform(Actions.GetStatusInfo(), on: service) {
                    if let last = lastUptime, status.uptime < last {
                        logger.info("gateway rebooted (uptime \(last) s → \(status.uptime) s)")
                        rebootedByUptime = true
                        reason = "reboot"
                    }
                    lastUptime = status.uptime
                }
                // A plain periodic check starts with the cheapest look; only a difference (or an
                // error, a reboot, an announcement) costs a full reconcile.
                if reason == "check", !rebootedByUptime, let check = try? await keeper.quickCheck(record), check.inSync {
                    logger.info("verified: \(record.friendlyName) matches the declaration")
                    backoff = interval
                    schedule(after: nextDelay(renewal: check.nextRenewal))
                    continue loop
                }
                let before = record.controlURL
                let report = try await keeper.reconcile(record, options: Planner.Options(),
                                                        rediscover: Self.rediscovers(reason: reason, away: away, interval: interval),
                                                        shouldStop: { stop.isRequested })
                record = report.gateway
                away = nil
                log(report, reason: reason)
                if record.controlURL != before { await listen() }
                if report.stopped { break loop }
                // It stopped answering mid-way: back off as for any failure.
                if let unreachable = report.unreachable { throw unreachable }
                backoff = interval
                schedule(after: nextDelay(renewal: report.nextRenewal))
            } catch {
                if let error = error as? RegistryError, Self.endsWatch(error) {
                    fatal = error
                    break loop
                }
                if let delay = Self.awayDelay(reason: reason, away: away, first: awayPoll) {
                    // It said it was leaving, or it announced itself and does not answer yet: not
                    // an error. Its next announcement wakes a check at once; until then, look
                    // again soon, less often the longer it stays away.
                    if away == nil {
                        logger.info("gateway is away after its \(reason == "byebye" ? "byebye" : "announcement"); checking again when it announces itself")
                    }
                    away = min(delay * 2, interval)
                    schedule(after: delay)
                    continue loop
                }
                let retry = backoff
                logger.error("error: \(oneLine(error)); retrying in \(retry.secondsText)")
                backoff = min(backoff * 2, maxBackoff)
                schedule(after: retry)
            }
        }
        await listener?.stop()
        if let fatal { throw fatal }
        logger.info("stopped")
    }

    /// How long to wait before re-checking a gateway whose check just failed, when that failure
    /// means it is away rather than broken: after its byebye, after an announcement it does not
    /// yet answer behind, and while it stays away. Nil: a real error, retried with backoff.
    static func awayDelay(reason: String, away: Duration?, first: Duration) -> Duration? {
        if let away { return away }
        return ["byebye", "reboot", "moved", "returned"].contains(reason) ? first : nil
    }

    /// Whether a check may search the network for the gateway by UDN. Not right after a byebye
    /// or while the gateway is away: it announces where it is when it is back. Once the away
    /// re-checks have slowed to the interval, an announcement may have been lost: search then.
    static func rediscovers(reason: String, away: Duration?, interval: Duration) -> Bool {
        if reason == "byebye" { return false }
        guard let away else { return true }
        return away >= interval
    }

    /// Whether a registry error ends the watch: retrying cannot help a damaged file, another
    /// program's, or a newer portkeeper's.
    static func endsWatch(_ error: RegistryError) -> Bool {
        [.corrupt, .notADatabase, .newerVersion].contains(error.kind)
    }

    /// What an announcement says, for telling a repeat from news.
    static func news(_ notify: SSDP.Notify) -> String {
        "\(notify.kind.rawValue) \(notify.bootID.map(String.init) ?? "-") \(notify.location ?? "-")"
    }

    /// The interval with jitter, or sooner when a lease falls due.
    func nextDelay(renewal: Duration?) -> Duration {
        let delay = jittered(interval)
        guard let renewal, renewal < delay else { return delay }
        return max(renewal, .seconds(1))
    }

    func jittered(_ base: Duration) -> Duration {
        let factor = 1 + Double.random(in: -jitter...jitter)
        return .nanoseconds(Int64(Double(base.nanoseconds) * factor))
    }

    func log(_ report: Keeper.ReconcileReport, reason: String) {
        let kinds = Dictionary(grouping: report.changes.filter { $0.key != nil }, by: \.kind).mapValues(\.count)
        for change in report.changes where change.key == nil {
            switch change.kind {
            case .gatewayMoved: logger.info("gateway moved: \(change.detail)")
            case .addressChanged: logger.info("external address changed: \(change.detail)")
            case .hostAddressChanged: logger.info("\(change.detail)")
            default: break
            }
        }
        let restored = (kinds[.added] ?? 0)
        if restored > 0 {
            let lost = kinds[.foundMissing] ?? 0
            var line = "restored \(restored) mapping" + (restored == 1 ? "" : "s")
            if lost > 0 { line += " lost on the gateway" }
            if reason == "reboot" { line += " after the gateway rebooted" }
            if let revision = report.revision { line += " (revision \(revision))" }
            logger.info("\(line)")
        }
        if let renewed = kinds[.renewed] { logger.info("renewed \(renewed) lease\(renewed == 1 ? "" : "s")") }
        if let updated = kinds[.updated] { logger.info("updated \(updated) mapping\(updated == 1 ? "" : "s")") }
        if let deleted = kinds[.deleted] { logger.info("deleted \(deleted) mapping\(deleted == 1 ? "" : "s")") }
        if let failed = kinds[.failed] {
            // Each failure in its own line, the fault by name (a gateway that stopped answering
            // is logged as the error it is).
            if report.unreachable == nil {
                for failure in report.failures { logger.warning("\(failure.error)") }
            }
            logger.warning("\(failed) operation\(failed == 1 ? "" : "s") failed; retrying at the next check")
        }
        for entry in report.ignored {
            logger.warning("\(report.gateway.friendlyName) lists an \(entry); ignored, never changed by portkeeper")
        }
        if report.changes.isEmpty {
            logger.info("verified: \(report.gateway.friendlyName) matches the declaration")
        } else if !report.inSync {
            logger.warning("\(report.gateway.friendlyName) does not match the declaration yet; retrying at the next check")
        }
    }

    func oneLine(_ error: any Error) -> String {
        let text = error is RegistryError ? "\(error)" : Failure.explain(error, doing: "checking the gateway").description
        return text.replacingOccurrences(of: "\n", with: " ")
    }
}
