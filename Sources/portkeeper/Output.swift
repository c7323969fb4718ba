import Foundation
import IGDProtocol
import MappingRegistry
import PortKeeper

/// Writes a command's output to stdout and flushes it at once, so that what a command printed
/// is out before the registry closes (a process killed while SQLite checkpoints on close must
/// not lose it).
func emit(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}

/// The one way problems reach stderr: one line each, "portkeeper: error: …" or
/// "portkeeper: warning: …", never more than one line.
enum Problems {
    static func error(_ message: String) {
        line("error", message)
    }

    static func warning(_ message: String) {
        line("warning", message)
    }

    private static func line(_ level: String, _ message: String) {
        let flat = message.split(whereSeparator: \.isNewline).joined(separator: " ")
        FileHandle.standardError.write(Data("portkeeper: \(level): \(Render.printable(flat))\n".utf8))
    }

    /// One warning per entry of the gateway's table that makes no sense.
    static func warn(ignored: [InvalidPortMappingEntry], on gateway: String) {
        for entry in ignored {
            warning("\(gateway) lists an \(entry); ignored, never changed by portkeeper")
        }
    }

    /// After a reconcile: the ignored entries, then one line per failure, conflict, entry
    /// not restored, and the gateway that stopped answering.
    static func report(_ report: Keeper.ReconcileReport) {
        let name = report.gateway.friendlyName
        warn(ignored: report.ignored, on: name)
        // The failure that made the gateway unreachable is told by the last line.
        let failures = report.unreachable == nil ? report.failures : Array(report.failures.dropLast())
        // An entry of another program not re-created is told once, below.
        let unrestored = Set(report.unrestored.map { MappingKey($0.entry) })
        for failure in failures where !unrestored.contains(failure.key) { error(failure.error.description) }
        for conflict in report.remaining.conflicts where report.unreachable == nil {
            error("\(conflict.declared.key) on \(name) is held by another client, \(Render.entry(conflict.holder)); replace it with --force, or choose another port")
        }
        // Those not sent are counted in the gateway's own line.
        for (entry, outcome) in report.unrestored where outcome != Keeper.notSentReason {
            error("\(MappingKey(entry)) of another program was not re-created on \(name): \(outcome)")
        }
        if let unreachable = report.unreachable {
            error(unreachable.description)
        } else if !report.inSync && failures.isEmpty && report.remaining.conflicts.isEmpty {
            error("\(name) does not match the declaration yet; `portkeeper plan` shows what differs")
        }
    }
}
