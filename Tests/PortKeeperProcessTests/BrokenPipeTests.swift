import Foundation
import IGDTestSupport
import Testing

/// `portkeeper discover | head -1`: once the reader of stdout has gone, portkeeper ends the way
/// a well-behaved filter does (SIGPIPE, status 141 in the shell, nothing on stderr) with its
/// work done, rather than trapping in Foundation with a crash report (issue 7 §1). A reader
/// gone from stderr changes nothing but the text nobody reads.
@Suite("A reader that has gone")
struct BrokenPipeTests {
    /// Status 128 + SIGPIPE, as ProcessRunner reports a process ended by that signal.
    static let endedBySIGPIPE: Int32 = 141

    static let readers: [[String]] = [
        ["discover"], ["discover", "--json"], ["status"], ["list"], ["list", "--json"], ["gateways"], ["mappings"],
        ["mappings", "--json"], ["plan"], ["reconcile"], ["reconcile", "--json"], ["history"], ["history", "--json"], ["export"],
    ]

    @Test("every command that writes to stdout ends by SIGPIPE, silently, when nobody reads it", arguments: readers)
    func stdoutGone(arguments: [String]) async throws {
        try await withSeededRegistry("epipe") { registry, gateway in
            var command = arguments
            if arguments.first == "discover" { command += ["--location", gateway.descriptionURL] }
            let result = try await registry.portkeeper(command, takingTurns: true, readerGone: .stdout)
            #expect(result.status == Self.endedBySIGPIPE, "\(command): status \(result.status), stderr: \(result.stderr)")
            #expect(result.stderr.isEmpty, "\(command): \(result.stderr)")
            // The registry is as it was: both declarations still read back.
            let mappings = try await registry.portkeeper(["mappings", "--json"], takingTurns: true)
            #expect(mappings.status == 0, "\(mappings.stderr)")
            #expect(mappings.stdout.contains("9000") && mappings.stdout.contains("9001"), "\(mappings.stdout)")
        }
    }

    @Test("a reconcile whose reader left has still made what it printed it made: plan then finds nothing to do")
    func reconcileKeepsItsWork() async throws {
        try await withSeededRegistry("epipe-work") { registry, gateway in
            try await registry.portkeeper(["add", "9002/tcp", "--description", "late", "--no-apply"]).check()
            let result = try await registry.portkeeper(["reconcile"], readerGone: .stdout)
            #expect(result.status == Self.endedBySIGPIPE, "status \(result.status), stderr: \(result.stderr)")
            #expect(result.stderr.isEmpty, "\(result.stderr)")
            #expect(gateway.mappings.count == 3)
            let plan = try await registry.portkeeper(["plan", "--exit-code"])
            #expect(plan.status == 0, "\(plan.stdout)\(plan.stderr)")
        }
    }

    @Test("with nobody reading stderr, a failure keeps its exit code and the registry its state")
    func stderrGone() async throws {
        try await withSeededRegistry("epipe-err") { registry, gateway in
            let refused = try await registry.portkeeper(["add", "1/tcp", "--to", "nonsense"], readerGone: .stderr)
            #expect(refused.status == 64)
            gateway.injectFault(action: "AddPortMapping", code: 718)
            let fault = try await registry.portkeeper(["add", "8080/tcp"], readerGone: .stderr)
            #expect(fault.status == 3)
            let mappings = try await registry.portkeeper(["mappings", "--json"])
            #expect(mappings.stdout.contains("8080"), "the declaration made before the fault stays: \(mappings.stdout)")
        }
    }
}
