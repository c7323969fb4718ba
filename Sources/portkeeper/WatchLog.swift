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

    static func plural(_ count: Int, _ noun: String) -> String {
        count == 1 ? noun : noun + "s"
    }

    /// An error as one line: the registry's as it says it, others with what to try.
    static func oneLine(_ error: any Error) -> String {
        let text = ErrorRendering.line(error, doing: "checking the gateway")
        return text.replacingOccurrences(of: "\n", with: " ")
    }
}
