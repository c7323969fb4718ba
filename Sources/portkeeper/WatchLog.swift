import Foundation
import IGDProtocol
import Logging
import PortKeeper

/// The log lines of `portkeeper watch` (README, "Running watch as a service"): one per event.
enum WatchLog {
    /// Logs `event` with the label and source the watch's lines have always had, so that a
    /// filter on the journal sees them as before, beside the library's own (rediscovering…).
    static func log(_ event: WatchEvent, to logger: Logger) {
        let (level, text) = line(for: event)
        logger.log(level: level, "\(text)", source: "PortKeeper")
    }

    static func line(for event: WatchEvent) -> (Logger.Level, String) {
        switch event {
        case let .started(gateway, udn, declared, interval):
            return (.info, "started: watching \(gateway) (\(udn)), \(declared) declared mappings, every \(interval.secondsText)")
        case let .notListening(error, interval):
            return (.warning, "cannot listen for the gateway's announcements (\(error)); relying on the \(interval.secondsText) check")
        case .announcedLeaving:
            return (.info, "gateway announced it is leaving (ssdp:byebye); checking now")
        case let .announcedRestart(bootID, was):
            return (.info, "gateway restarted (BOOTID \(was) → \(bootID)); checking now")
        case .announcedMove(let location):
            return (.info, "gateway moved (LOCATION \(location)); checking now")
        case .announcedReturn:
            return (.info, "gateway announced itself again; checking now")
        case let .announcedEpoch(seconds, over):
            return (.info, "gateway announced over \(over) that it restarted (epoch \(seconds) s); checking now")
        case .announcedAddress(let address):
            return (.info, "gateway announced over NAT-PMP that its external address is \(address) now; checking now")
        case let .rebooted(uptime, was):
            return (.info, "gateway rebooted (uptime \(was) s → \(uptime) s)")
        case .verified(let gateway):
            // Debug: at 60 s it would be 1,440 lines a day saying nothing happened.
            return (.debug, "verified: \(gateway) matches the declaration")
        case let .checked(gateway, _, declared, missing):
            // The figures behind the metrics; the lines above already told what happened.
            return (.trace, "checked: \(gateway) has \(declared - missing) of \(declared) declared mappings")
        case .moved(let detail):
            return (.info, "gateway moved: \(detail)")
        case .externalAddressChanged(let detail):
            return (.info, "external address changed: \(detail)")
        case .hostAddressChanged(let detail):
            return (.info, detail)
        case let .restored(count, lostOnGateway, afterReboot, revision):
            var line = "restored \(count) \(plural(count, "mapping"))"
            if lostOnGateway { line += " lost on the gateway" }
            if afterReboot { line += " after the gateway rebooted" }
            if let revision { line += " (revision \(revision))" }
            return (.info, line)
        case .renewed(let count):
            return (.info, "renewed \(count) \(plural(count, "lease"))")
        case .updated(let count):
            return (.info, "updated \(count) \(plural(count, "mapping"))")
        case .deleted(let count):
            return (.info, "deleted \(count) \(plural(count, "mapping"))")
        case .operationFailed(let error):
            return (.warning, oneLine(error))
        case .operationsFailed(let count):
            return (.warning, "\(count) \(plural(count, "operation")) failed; retrying at the next check")
        case let .ignored(entry, gateway):
            return (.warning, "\(gateway) lists an \(entry); ignored, never changed by portkeeper")
        case .notInSync(let gateway):
            return (.warning, "\(gateway) does not match the declaration yet; retrying at the next check")
        case .away(let afterByebye):
            return (.info, "gateway is away after its \(afterByebye ? "byebye" : "announcement"); checking again when it announces itself")
        case let .retrying(error, delay):
            return (.error, "error: \(oneLine(error)); retrying in \(delay.secondsText)")
        case .stopped:
            return (.info, "stopped")
        }
    }

    /// The event as one line of JSON (`watch --json`), or nil when its level is below `least`
    /// (as the log would leave it out).
    static func json(for event: WatchEvent, atLeast least: Logger.Level, now: Date = Date()) -> String? {
        let (level, message) = line(for: event)
        guard level >= least else { return nil }
        return Render.jsonLine(WatchEventDocument(event, level: level, message: message, time: now))
    }

    static func plural(_ count: Int, _ noun: String) -> String {
        count == 1 ? noun : noun + "s"
    }

    /// An error as one line: the registry's as it says it, others with what to try.
    static func oneLine(_ error: any Error) -> String {
        let text = ErrorRendering.line(error, doing: "checking the gateway")
        return text.replacingOccurrences(of: "\n", with: " ")
    }
}

/// One event of `watch --json`: its name, level and the log line's words, with the values a
/// program may want without parsing them (null where the event has none).
struct WatchEventDocument: Encodable {
    var formatVersion = jsonFormatVersion
    var time: String
    var level: String
    var event: String
    var message: String
    @Null var friendlyName: String?
    @Null var udn: String?
    @Null var count: Int?
    /// For "checked": how many of the `count` declared mappings the gateway was missing.
    @Null var missing: Int?
    @Null var revision: Int64?
    /// Seconds: the check interval (started, not-listening), the wait before the next look (retrying), or
    /// the epoch a PCP/NAT-PMP server announced (announced-epoch).
    @Null var seconds: Double?
    @Null var error: ErrorJSON?

    init(_ event: WatchEvent, level: Logger.Level, message: String, time: Date) {
        self.time = time.formatted(.iso8601)
        self.level = level.rawValue
        self.message = message
        self.event = Self.name(event)
        func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
        switch event {
        case let .started(gateway, udn, declared, interval):
            friendlyName = gateway; self.udn = udn; count = declared; self.seconds = seconds(interval)
        case let .notListening(error, interval):
            self.error = ErrorRendering.json(error, doing: "listening for announcements"); self.seconds = seconds(interval)
        case let .checked(gateway, udn, declared, missing):
            friendlyName = gateway; self.udn = udn; count = declared; self.missing = missing
        case .verified(let gateway), .notInSync(let gateway):
            friendlyName = gateway
        case let .restored(n, _, _, revision):
            count = n; self.revision = revision
        case .renewed(let n), .updated(let n), .deleted(let n), .operationsFailed(let n):
            count = n
        case .operationFailed(let error):
            self.error = ErrorJSON(error)
        case .ignored(_, let gateway):
            friendlyName = gateway
        case let .retrying(error, delay):
            self.error = ErrorRendering.json(error, doing: "checking the gateway"); self.seconds = seconds(delay)
        case .announcedEpoch(let epoch, _):
            self.seconds = Double(epoch)
        default:
            break
        }
    }

    /// The event's stable name, as in schemas/watch-event.schema.json.
    static func name(_ event: WatchEvent) -> String {
        switch event {
        case .started: "started"
        case .notListening: "not-listening"
        case .announcedLeaving: "announced-leaving"
        case .announcedRestart: "announced-restart"
        case .announcedMove: "announced-move"
        case .announcedReturn: "announced-return"
        case .announcedEpoch: "announced-epoch"
        case .announcedAddress: "announced-address"
        case .rebooted: "rebooted"
        case .checked: "checked"
        case .verified: "verified"
        case .moved: "moved"
        case .externalAddressChanged: "external-address-changed"
        case .hostAddressChanged: "host-address-changed"
        case .restored: "restored"
        case .renewed: "renewed"
        case .updated: "updated"
        case .deleted: "deleted"
        case .operationFailed: "operation-failed"
        case .operationsFailed: "operations-failed"
        case .ignored: "ignored"
        case .notInSync: "not-in-sync"
        case .away: "away"
        case .retrying: "retrying"
        case .stopped: "stopped"
        }
    }
}
