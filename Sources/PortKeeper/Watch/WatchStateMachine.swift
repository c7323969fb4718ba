import IGDProtocol
import PCPProtocol

/// What woke the watch loop.
enum Wake: Sendable {
    /// The deadline the state machine set may have passed.
    case timer
    /// The gateway announced something over SSDP.
    case announcement(SSDP.Notify)
    /// The gateway's PCP or NAT-PMP server announced its epoch (it restarted, or its address changed).
    case serverAnnouncement(ServerAnnouncement)
    /// SIGTERM or SIGINT.
    case stop
}

/// Why the watch looks at its gateway now.
public enum WakeReason: Sendable, Equatable {
    /// The interval passed, or a lease fell due: the cheapest look first.
    case interval
    /// The gateway is away; time to look again.
    case awayRecheck
    /// It said it is leaving (`ssdp:byebye`).
    case byebye
    /// It restarted: a new BOOTID, its uptime went down, or its PCP/NAT-PMP server announced itself.
    case restart
    /// It announced a new LOCATION.
    case move
    /// It announced itself again while away.
    case returned
    /// Its NAT-PMP server announced another external address, its epoch unbroken (RFC 6886
    /// §3.2.1): the mappings stand, the address they are reached at changed.
    case addressChanged
}

/// The timing rules of `watch`, apart from any I/O: when to look at the gateway, why, and how
/// long to wait after a look that worked or failed. The driver (``Watcher``) feeds it what
/// woke the loop and what each look found, at the clock's time, and sleeps until ``deadline``.
struct WatchStateMachine<Instant: InstantProtocol> where Instant.Duration == Duration {
    /// The settings that shape the timing.
    struct Policy: Sendable {
        var interval: Duration
        /// ± this fraction of the interval, so that many watchers do not beat in step.
        var jitter = 0.1
        /// The longest wait after repeated errors.
        var maxBackoff: Duration = .seconds(300)
        /// While the gateway is away, the first re-check comes this soon; each failed one
        /// doubles it, up to the interval.
        var awayPoll: Duration = .seconds(1)
    }

    /// What to do with a wake.
    enum Decision: Sendable {
        case stop
        /// Nothing new: keep waiting for the same deadline.
        case ignore
        /// Look at the gateway; `announced` is what an announcement said, to be told first.
        case check(WakeReason, announced: WatchEvent?)
    }

    /// What a failed look means.
    enum Failure: Sendable, Equatable {
        /// The gateway is away (it said so, or it announced itself and does not answer yet):
        /// not an error. `first` when it just went away.
        case away(recheckIn: Duration, first: Bool)
        /// An error: retry after `in`, doubling each time.
        case retry(in: Duration)
    }

    let policy: Policy
    private var random: any RandomNumberGenerator
    /// When the next periodic (or away, or retry) look falls due.
    private(set) var deadline: Instant
    /// The BOOTID last announced; a different one means a restart.
    private(set) var bootID: UInt32?
    private(set) var lastUptime: UInt32?
    /// The wait after the next error.
    private(set) var backoff: Duration
    /// Set while the gateway is away: the delay before the re-check after the next one.
    private(set) var away: Duration?
    /// The last announcement acted on, to tell a repeat within its burst from news.
    private var lastNews: (news: News, at: Instant)?
    /// The last PCP/NAT-PMP announcement heard, to tell a repeat of it from a new restart.
    private var lastServerAnnouncement: (announcement: ServerAnnouncement, at: Instant)?
    /// The external address NAT-PMP last announced, to tell an address change from a repeat.
    private var lastAnnouncedAddress: IPv4Address?

    /// A machine that looks at once.
    init(policy: Policy, random: any RandomNumberGenerator, bootID: UInt32?, now: Instant) {
        self.policy = policy
        self.random = random
        self.bootID = bootID
        self.backoff = policy.interval
        self.deadline = now
    }

    /// What `wake` means at `now`, for a gateway whose description is at `location`.
    mutating func decide(_ wake: Wake, at now: Instant, location: String) -> Decision {
        switch wake {
        case .stop:
            return .stop
        case .timer:
            // A timer of a deadline since moved later.
            guard now >= deadline else { return .ignore }
            return .check(away == nil ? .interval : .awayRecheck, announced: nil)
        case .announcement(let notify):
            return announced(notify, at: now, location: location)
        case .serverAnnouncement(let announcement):
            return announced(announcement, at: now)
        }
    }

    /// A PCP/NAT-PMP server announces a restart several times (RFC 6886 §3.2.1: ten times,
    /// 250 ms apart and doubling; RFC 6887 §14.1.3 alike), and miniupnpd over both protocols at
    /// once: the first is a restart, to be looked at with a full reconcile. Another within a
    /// second, or one whose epoch advanced as our clock did since the last one heard (the RFC's
    /// epoch check), is the same news; an epoch that went back is a new restart. Same news but
    /// for another external address (NAT-PMP announces a change of address, RFC 6886 §3.2.1) is
    /// an address change: a full look, which reads and records the new address.
    private mutating func announced(_ announcement: ServerAnnouncement, at now: Instant) -> Decision {
        let previousAddress = lastAnnouncedAddress
        defer {
            lastServerAnnouncement = (announcement, now)
            if let address = announcement.externalAddress { lastAnnouncedAddress = address }
        }
        var restart = true
        if let last = lastServerAnnouncement {
            let elapsed = last.at.duration(to: now)
            let sameBurst = elapsed < .seconds(1) && announcement.epochSeconds >= last.announcement.epochSeconds
            restart = !sameBurst && announcement.restarted(since: last.announcement, elapsed: elapsed)
        }
        if restart {
            let over: GatewayProtocol = announcement.via == .pcp ? .pcp : .natPMP
            return .check(.restart, announced: .announcedEpoch(seconds: announcement.epochSeconds, over: over))
        }
        if let address = announcement.externalAddress, let previousAddress, address != previousAddress {
            return .check(.addressChanged, announced: .announcedAddress(address: address.description))
        }
        return .ignore
    }

    /// A gateway sends its announcements in bursts (one per device and service type, often
    /// twice): the first of a burst is acted on, the same news again within a second is not.
    /// A byebye followed by an alive with a new BOOTID is new news.
    private mutating func announced(_ notify: SSDP.Notify, at now: Instant, location: String) -> Decision {
        let news = News(notify)
        if let last = lastNews, last.news == news, last.at.duration(to: now) < .seconds(1) { return .ignore }
        let reason: WakeReason
        let event: WatchEvent
        if notify.kind == .byebye {
            (reason, event) = (.byebye, .announcedLeaving)
        } else if let id = notify.bootID, let known = bootID, id != known {
            (reason, event) = (.restart, .announcedRestart(bootID: id, was: known))
        } else if let moved = notify.location, moved != location {
            (reason, event) = (.move, .announcedMove(location: moved))
        } else if away != nil {
            // Back with the same BOOTID (or none): still news while we wait for it, whether it
            // arrived before or after the look that found it gone.
            (reason, event) = (.returned, .announcedReturn)
        } else {
            if bootID == nil { bootID = notify.bootID }
            return .ignore
        }
        if let id = notify.bootID { bootID = id }
        lastNews = (news, now)
        return .check(reason, announced: event)
    }

    /// Notes the gateway's uptime; a lower one than last time means it rebooted, even without
    /// an announcement.
    /// - Returns: the reboot, when it did.
    mutating func readUptime(_ uptime: UInt32) -> WatchEvent? {
        defer { lastUptime = uptime }
        guard let last = lastUptime, uptime < last else { return nil }
        return .rebooted(uptime: uptime, was: last)
    }

    /// Whether a look for `reason` starts with the cheapest check (a full reconcile only when
    /// something differs): only a plain periodic one does.
    static func startsWithQuickCheck(_ reason: WakeReason) -> Bool {
        reason == .interval
    }

    /// Whether a look may search the network for the gateway by UDN. Not right after a byebye
    /// or while the gateway is away: it announces where it is when it is back. Once the away
    /// re-checks have slowed to the interval, an announcement may have been lost: search then.
    func rediscovers(after reason: WakeReason) -> Bool {
        if reason == .byebye { return false }
        guard let away else { return true }
        return away >= policy.interval
    }

    /// The gateway answered a full reconcile: it is no longer away.
    mutating func answered() {
        away = nil
    }

    /// The look worked: the next one after the interval (with jitter), or sooner when a lease
    /// falls due.
    /// - Returns: the wait until ``deadline``.
    @discardableResult
    mutating func succeeded(nextRenewal: Duration?, at now: Instant) -> Duration {
        backoff = policy.interval
        let delay = nextDelay(renewal: nextRenewal)
        deadline = now.advanced(by: delay)
        return delay
    }

    /// The look after `reason` failed: an away gateway is looked at again soon, less often the
    /// longer it stays away; an error is retried with backoff, doubling up to the cap.
    mutating func failed(after reason: WakeReason, at now: Instant) -> Failure {
        if let delay = awayDelay(after: reason) {
            let first = away == nil
            away = min(delay * 2, policy.interval)
            deadline = now.advanced(by: delay)
            return .away(recheckIn: delay, first: first)
        }
        let retry = backoff
        backoff = min(backoff * 2, policy.maxBackoff)
        deadline = now.advanced(by: retry)
        return .retry(in: retry)
    }

    /// How long to wait before re-checking a gateway whose look just failed, when that failure
    /// means it is away rather than broken: after its byebye, after an announcement it does not
    /// yet answer behind, and while it stays away. Nil: a real error.
    private func awayDelay(after reason: WakeReason) -> Duration? {
        if let away { return away }
        return [.byebye, .restart, .move, .returned].contains(reason) ? policy.awayPoll : nil
    }

    /// The interval with jitter, or sooner when a lease falls due (never under a second).
    mutating func nextDelay(renewal: Duration?) -> Duration {
        let factor = 1 + Double.random(in: -policy.jitter...policy.jitter, using: &random)
        let delay = Duration.nanoseconds(Int64(Double(policy.interval.nanoseconds) * factor))
        guard let renewal, renewal < delay else { return delay }
        return max(renewal, .seconds(1))
    }
}

/// What an announcement says, for telling a repeat from news.
private struct News: Equatable {
    var kind: SSDP.Notify.Kind
    var bootID: UInt32?
    var location: String?

    init(_ notify: SSDP.Notify) {
        (kind, bootID, location) = (notify.kind, notify.bootID, notify.location)
    }
}
