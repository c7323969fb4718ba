import Dispatch
import Foundation

/// What a finished process left behind.
public struct ProcessResult: Sendable {
    /// The exit status, or 128 + the signal number when a signal ended the process.
    public var status: Int32
    /// Everything written to standard output, decoded as UTF-8.
    public var stdout: String
    /// Everything written to standard error, decoded as UTF-8.
    public var stderr: String

    /// Creates a result.
    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }

    /// Whether the process exited with status 0.
    public var succeeded: Bool { status == 0 }

    /// This result, or a ``ProcessError/failed(command:result:)`` when the status is not 0.
    @discardableResult
    public func check(_ command: [String] = []) throws -> ProcessResult {
        guard succeeded else { throw ProcessError.failed(command: command, result: self) }
        return self
    }
}

/// Why running a process went wrong.
public enum ProcessError: Error, CustomStringConvertible {
    /// The executable was not found on PATH (or at the path given).
    case notFound(String)
    /// The process did not finish in time and was killed; its output so far is kept.
    case timedOut(command: [String], timeout: Duration, partial: ProcessResult)
    /// The process exited with a non-zero status.
    case failed(command: [String], result: ProcessResult)

    public var description: String {
        switch self {
        case .notFound(let name):
            return "executable '\(name)' not found"
        case .timedOut(let command, let timeout, let partial):
            return "`\(command.joined(separator: " "))` did not finish within \(timeout) and was killed"
                + ProcessError.tail(partial)
        case .failed(let command, let result):
            return "`\(command.joined(separator: " "))` exited with status \(result.status)" + ProcessError.tail(result)
        }
    }

    /// The last lines of a result's output, for error messages.
    private static func tail(_ result: ProcessResult) -> String {
        func last(_ text: String) -> String {
            text.split(separator: "\n", omittingEmptySubsequences: false).suffix(15).joined(separator: "\n")
        }
        var text = ""
        if !result.stdout.isEmpty { text += "\n--- stdout (end) ---\n" + last(result.stdout) }
        if !result.stderr.isEmpty { text += "\n--- stderr (end) ---\n" + last(result.stderr) }
        return text
    }
}

/// Runs external programs synchronously with a time limit.
public enum ProcessRunner {
    /// Runs `executable` (a path, or a name looked up on PATH) with `arguments` and waits for it.
    ///
    /// Standard output and error are read concurrently while it runs, so large output cannot
    /// deadlock. `environment` adds to (or overrides) the inherited environment. `stdin` is written
    /// to its standard input, which is otherwise /dev/null. `readerGone` gives one output stream
    /// no reader from the start, as a pipe into a `head` that has already exited: the child's
    /// writes to it fail with EPIPE (or SIGPIPE), and it reads back empty. After `timeout` the process gets
    /// SIGTERM, then SIGKILL, and ``ProcessError/timedOut(command:timeout:partial:)`` is thrown.
    ///
    /// The wait happens on a thread of its own, never on the Swift concurrency pool: tests run
    /// in parallel, and in-process fakes need that pool to answer the very program waited for.
    ///
    /// With `waitsForASlot`, it first waits for one of ``slots``: for tables of many command
    /// lines run in parallel. Off by default: a test that starts a process and then waits for
    /// what it does (a request at the fake, a lock taken) must not find it queued behind others.
    public static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String]? = nil,
        stdin: String? = nil,
        readerGone: StandardStreamName? = nil,
        timeout: Duration,
        waitsForASlot: Bool = false
    ) async throws -> ProcessResult {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                if waitsForASlot { slots.wait() }
                defer { if waitsForASlot { slots.signal() } }
                continuation.resume(with: Result {
                    try runBlocking(executable, arguments, environment: environment, stdin: stdin, readerGone: readerGone, timeout: timeout)
                })
            }
        }
    }

    /// How many processes ``run(_:_:environment:stdin:timeout:waitsForASlot:)`` runs at once when
    /// asked to wait for a slot; the rest wait their turn (their timeout counts from their start). A parameterized test of a hundred
    /// command lines would otherwise start a hundred processes on two cores at once, and the
    /// in-process fakes they talk to would answer later than the programs' own deadlines.
    static let slots = DispatchSemaphore(value: 2 * max(1, ProcessInfo.processInfo.activeProcessorCount))

    /// ``run(_:_:environment:stdin:timeout:)`` blocking the calling thread; for `defer` blocks
    /// and other synchronous clean-up.
    public static func runBlocking(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String]? = nil,
        stdin: String? = nil,
        readerGone: StandardStreamName? = nil,
        timeout: Duration
    ) throws -> ProcessResult {
        let running = try RunningProcess(executable, arguments, environment: environment, stdin: stdin, readerGone: readerGone)
        guard running.waitForExit(timeout: timeout) else {
            let partial = running.stop()
            throw ProcessError.timedOut(command: [executable] + arguments, timeout: timeout, partial: partial)
        }
        return running.result()
    }

    /// The full path of `name`: itself when it contains a slash, else the first executable match
    /// on PATH.
    public static func resolve(_ name: String) throws -> String {
        if name.contains("/") {
            guard FileManager.default.isExecutableFile(atPath: name) else { throw ProcessError.notFound(name) }
            return name
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw ProcessError.notFound(name)
    }
}

/// A launched process with its output being collected in the background.
final class RunningProcess: Sendable {
    let command: [String]
    /// The process id, which is also its process group id.
    let pid: Int32
    private let exited = DispatchGroup()
    private let status = LockedBox<Int32?>(nil)
    private let stdout: PipeCollector
    private let stderr: PipeCollector

    /// Launches the process; throws when it cannot be started.
    init(_ executable: String, _ arguments: [String], environment: [String: String]?, stdin: String?,
         readerGone: StandardStreamName? = nil) throws {
        command = [executable] + arguments
        let path = try ProcessRunner.resolve(executable)
        var fullEnvironment = ProcessInfo.processInfo.environment
        if let environment {
            fullEnvironment.merge(environment) { _, new in new }
        }
        let child = try ProcessSpawn.spawn(path: path, arguments: arguments, environment: fullEnvironment, feedStdin: stdin != nil,
                                           readerGone: readerGone)
        pid = child.pid
        stdout = child.stdout < 0 ? .nothing : PipeCollector(FileHandle(fileDescriptor: child.stdout, closeOnDealloc: true))
        stderr = child.stderr < 0 ? .nothing : PipeCollector(FileHandle(fileDescriptor: child.stderr, closeOnDealloc: true))
        if let fd = child.stdin {
            Self.feed(stdin ?? "", to: FileHandle(fileDescriptor: fd, closeOnDealloc: true))
        }
        let exited = self.exited
        let status = self.status
        let pid = child.pid
        exited.enter()
        let waiter = Thread {
            let code = ProcessSpawn.waitForExit(pid)
            status.withLock { $0 = code }
            exited.leave()
        }
        waiter.name = "IGDTestSupport waitpid \(pid)"
        waiter.start()
    }

    /// Whether the process is still running.
    var isRunning: Bool { status.snapshot == nil }

    /// Waits until the process exits; false when `timeout` passed first.
    func waitForExit(timeout: Duration) -> Bool {
        exited.wait(timeout: .now() + timeout.seconds) == .success
    }

    /// What it has written to standard error so far.
    var stderrSoFar: String { stderr.soFar }

    /// What it has written to standard output so far.
    var stdoutSoFar: String { stdout.soFar }

    /// The exit status and all output; call after the process exited.
    func result() -> ProcessResult {
        // Something the process started may still hold the pipes open: do not wait for it forever.
        ProcessResult(
            status: status.snapshot ?? -1,
            stdout: stdout.finish(waitingAtMost: 5),
            stderr: stderr.finish(waitingAtMost: 5)
        )
    }

    /// Sends SIGTERM to the process and its process group, then SIGKILL if it is still running
    /// after `grace`; waits for the exit and returns the result (status -1 if it would not die).
    @discardableResult
    func stop(grace: Duration = .seconds(2)) -> ProcessResult {
        if isRunning {
            kill(-pid, SIGTERM)
            kill(pid, SIGTERM)
            if !waitForExit(timeout: grace) {
                kill(-pid, SIGKILL)
                kill(pid, SIGKILL)
                _ = waitForExit(timeout: .seconds(5))
            }
        }
        return ProcessResult(
            status: status.snapshot ?? -1,
            stdout: stdout.finish(waitingAtMost: 2),
            stderr: stderr.finish(waitingAtMost: 2)
        )
    }

    /// Writes `text` to `handle` on a background thread, then closes it.
    private static func feed(_ text: String, to handle: FileHandle) {
        // A process that exits without reading its input must not kill us with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        let data = Data(text.utf8)
        // A thread of its own: a blocking write on Dispatch's global queue would take a thread
        // from the pool Swift concurrency runs on, and starve the in-process fakes.
        Thread.detachNewThread {
            try? handle.write(contentsOf: data)
            try? handle.close()
        }
    }
}

/// Reads one pipe to its end on a background thread, keeping what arrived.
final class PipeCollector: Sendable {
    private let data = LockedBox(Data())
    private let done = DispatchSemaphore(value: 0)
    private let finished = LockedBox(false)

    init(_ handle: FileHandle) {
        let data = self.data
        let done = self.done
        // Not Dispatch's global queue: that is Swift concurrency's pool, and a blocking read
        // there starves the in-process fakes the program being read is talking to.
        Thread.detachNewThread {
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                data.withLock { $0.append(chunk) }
            }
            try? handle.close()
            done.signal()
        }
    }

    /// A stream whose reader is gone (``StandardStreamName``): nothing arrives.
    static var nothing: PipeCollector { PipeCollector() }

    private init() {
        done.signal()
    }

    /// The text read so far, without waiting.
    var soFar: String { String(decoding: data.snapshot, as: UTF8.self) }

    /// The text read, once the pipe reached its end or `seconds` passed (then what arrived so far).
    func finish(waitingAtMost seconds: Double) -> String {
        let alreadyFinished = finished.withLock { $0 }
        if !alreadyFinished, done.wait(timeout: .now() + seconds) == .success {
            finished.withLock { $0 = true }
        }
        return String(decoding: data.snapshot, as: UTF8.self)
    }
}

extension Duration {
    /// This duration in seconds.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
