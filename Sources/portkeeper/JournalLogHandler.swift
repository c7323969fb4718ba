import Foundation
import Logging

/// Log lines for systemd's journal: when stderr is the journal (`$JOURNAL_STREAM` names the very
/// device and inode stderr is), each line starts with its syslog priority (`<3>` error, `<4>`
/// warning, `<5>` notice, `<6>` info, `<7>` debug; sd-daemon(3)), so `journalctl -p warning`
/// filters them, and carries no timestamp of its own (the journal keeps one).
struct JournalLogHandler: LogHandler {
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    let label: String

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let line = "\(Self.priority(event.level))\(label): [\(event.source)] \(event.message)"
        StandardStream.error.write(line.replacingOccurrences(of: "\n", with: " ") + "\n")
    }

    static func priority(_ level: Logger.Level) -> String {
        switch level {
        case .trace, .debug: "<7>"
        case .info: "<6>"
        case .notice: "<5>"
        case .warning: "<4>"
        case .error: "<3>"
        case .critical: "<2>"
        }
    }

    /// Whether standard error is the journal's stream: `$JOURNAL_STREAM` is "DEVICE:INODE" of it.
    static func stderrIsJournal(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        guard let stream = environment["JOURNAL_STREAM"] else { return false }
        let parts = stream.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var info = stat()
        guard fstat(STDERR_FILENO, &info) == 0 else { return false }
        return UInt64(info.st_dev) == device && UInt64(info.st_ino) == inode
    }
}
