import Foundation
import PortKeeper

#if canImport(Glibc)
import Glibc
#endif

/// What a reconcile shows while it works (issue 10 §4): the lines of each operation as soon as
/// it is over, and on a terminal a one-line indicator ("[12/100] adding 8080/tcp …") rewritten
/// in place while an operation is on its way. Nothing under --json (the document says it all
/// at the end), and no indicator when stdout is not a terminal: a pipe or a file gets the
/// operations' lines only, never an escape sequence.
final class ProgressOutput: @unchecked Sendable {
    /// Writes text as it is (the caller puts the newlines).
    typealias Sink = @Sendable (String) -> Void

    private let lock = NSLock()
    private let enabled: Bool
    private let indicator: Bool
    private let write: Sink
    /// The changes already shown, so that the summary at the end does not show them again.
    private var shown: [Change] = []
    private var indicatorShown = false

    /// Carriage return, then erase to the end of the line: the indicator's line made blank.
    static let clearLine = "\r\u{1B}[K"

    /// - Parameters:
    ///   - json: the command prints a JSON document: nothing is shown while it works.
    ///   - terminal: stdout is a terminal (the indicator is shown only then).
    ///   - write: where the text goes (stdout, or a test's buffer).
    init(json: Bool, terminal: Bool, write: @escaping Sink) {
        enabled = !json
        indicator = !json && terminal
        self.write = write
    }

    /// For a command: stdout, the indicator when it is a terminal.
    static func standard(json: Bool) -> ProgressOutput {
        ProgressOutput(json: json, terminal: isatty(STDOUT_FILENO) == 1) { text in
            StandardStream.output.write(text)
        }
    }

    func handle(_ event: ReconcileEvent) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case .planned(_, let found):
            show(found)
        case let .started(operation, index, total):
            guard indicator else { return }
            write(Self.clearLine + "[\(index)/\(total)] \(Self.verb(operation.kind)) \(operation.key) …")
            indicatorShown = true
        case .finished(let report, _, _):
            show(report.changes)
        }
    }

    /// The changes of `report` not shown while it worked, in its order.
    func notYetShown(_ changes: [Change]) -> [Change] {
        lock.lock()
        var pending = shown
        lock.unlock()
        return changes.filter { change in
            guard let index = pending.firstIndex(of: change) else { return true }
            pending.remove(at: index)
            return false
        }
    }

    /// Clears the indicator (before the summary, or an error, is written).
    func finish() {
        lock.lock()
        defer { lock.unlock() }
        if indicatorShown { write(Self.clearLine) }
        indicatorShown = false
    }

    private func show(_ changes: [Change]) {
        guard !changes.isEmpty else { return }
        if indicatorShown { write(Self.clearLine) }
        indicatorShown = false
        write(changes.map { "  " + Render.change($0) + "\n" }.joined())
        shown += changes
    }

    static func verb(_ kind: PlannedOperation.Kind) -> String {
        switch kind {
        case .add: "adding"
        case .update: "updating"
        case .delete: "deleting"
        case .replace: "replacing"
        case .renew: "renewing"
        case .restore: "restoring"
        }
    }
}
