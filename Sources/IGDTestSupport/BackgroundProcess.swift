/// A process left running in the background (e.g. a server inside a lab namespace).
public final class BackgroundProcess: Sendable {
    private let running: RunningProcess

    init(_ running: RunningProcess) {
        self.running = running
    }

    /// The command line it was started with.
    public var command: [String] { running.command }

    /// Its process id.
    public var pid: Int32 { running.pid }

    /// Whether it is still running.
    public var isRunning: Bool { running.isRunning }

    /// What it has written to standard error so far (it goes on running).
    public var stderrSoFar: String { running.stderrSoFar }

    /// What it has written to standard output so far (it goes on running).
    public var stdoutSoFar: String { running.stdoutSoFar }

    /// Stops it (SIGTERM, then SIGKILL after `grace`) and returns its status and output.
    /// Calling it again, or after the process ended on its own, just returns the result.
    @discardableResult
    public func terminate(grace: Duration = .seconds(2)) -> ProcessResult {
        running.stop(grace: grace)
    }

    deinit {
        if running.isRunning { running.stop() }
    }
}
