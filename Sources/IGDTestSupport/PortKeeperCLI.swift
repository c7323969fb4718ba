/// How tests run the portkeeper executable against in-process fakes: the one way, so that every
/// run gets the same generous request timeout.
public enum PortKeeperCLI {
    /// Seconds a fake may take over one request before the CLI gives up, in tests that are not
    /// about timeouts. A fake answers in milliseconds on an idle machine; on a machine busy with
    /// other work (CI's neighbours, a release build beside the tests) a process can wait seconds
    /// for a CPU, and portkeeper's own 5 s would turn that wait into a failure the test is not
    /// about. Tests of timeouts pass `--request-timeout` themselves, which wins.
    public static let generousRequestTimeout = 30

    /// The environment to add for a run of portkeeper with `arguments`.
    public static func environment(for arguments: [String], adding extra: [String: String] = [:]) -> [String: String] {
        var environment = extra
        if !arguments.contains("--request-timeout"), environment["PORTKEEPER_REQUEST_TIMEOUT"] == nil {
            environment["PORTKEEPER_REQUEST_TIMEOUT"] = String(generousRequestTimeout)
        }
        // Searches go to a loopback port nothing answers on, never to the LAN's multicast group:
        // tests run in the machine's own network namespace.
        if environment["PORTKEEPER_SSDP_TARGET"] == nil {
            environment["PORTKEEPER_SSDP_TARGET"] = "127.0.0.1:9"
        }
        return environment
    }

    /// Runs the built portkeeper with `arguments`, `environment` added to the inherited one
    /// (and the generous request timeout unless the test sets its own).
    /// `takingTurns`: for tables of many command lines run in parallel (``ProcessRunner/slots``);
    /// `readerGone`: that output stream has no reader, as a pipe into a `head` that has exited.
    public static func run(_ arguments: [String], environment extra: [String: String] = [:], timeout: Duration = .seconds(90),
                           takingTurns: Bool = false, readerGone: StandardStreamName? = nil) async throws -> ProcessResult {
        try await ProcessRunner.run(try Products.path("portkeeper"), arguments, environment: environment(for: arguments, adding: extra),
                                    readerGone: readerGone, timeout: timeout, waitsForASlot: takingTurns)
    }

    /// Runs the built portkeeper through `/bin/sh -c script`, the executable's path as `$0` and
    /// `parameters` as `$1`…: for argv a Swift String cannot carry (bytes that are not UTF-8,
    /// made by the shell's printf).
    public static func runThroughShell(_ script: String, _ parameters: [String], timeout: Duration = .seconds(90),
                                       takingTurns: Bool = false) async throws -> ProcessResult {
        try await ProcessRunner.run("/bin/sh", ["-c", script, try Products.path("portkeeper")] + parameters, environment: environment(for: []),
                                    timeout: timeout, waitsForASlot: takingTurns)
    }
}
