import Foundation
import IGDTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

// Helpers of the tests that run the built portkeeper as a process (they use #expect, so they
// live in this target rather than in IGDTestSupport, which does not link Swift Testing).
// ScratchRegistry, Immutable, withGateway, waitUntil and the one way to run the binary are
// IGDTestSupport's.

/// A fake gateway and a registry that knows it and declares two mappings, applied:
/// 9000/tcp → this host and 9001/udp → 192.168.1.50:9011.
func withSeededRegistry(_ label: String, _ body: (ScratchRegistry, SimulatedGateway) async throws -> Void) async throws {
    try await withGateway { gateway in
        let registry = try ScratchRegistry(label)
        defer { registry.remove() }
        try await registry.portkeeper(["add", "9000/tcp", "--description", "seed", "--no-apply", "--gateway", gateway.descriptionURL], takingTurns: true).check()
        // 192.168.1.50 is on none of this machine's subnets (the gateway is on loopback): said so.
        try await registry.portkeeper(["add", "9001/udp", "--to", "192.168.1.50:9011", "--allow-remote-client", "--description", "game", "--no-apply"], takingTurns: true).check()
        try await registry.portkeeper(["reconcile"], takingTurns: true).check()
        try #require(gateway.mappings.count == 2)
        try await body(registry, gateway)
    }
}

/// Runs `arguments` and checks it is refused with one line saying `expected`, and that the
/// registry's file, its -wal file, `mappings --json` and `history --json` are as before.
func expectRefusal(_ arguments: [String], on registry: ScratchRegistry, saying expected: String, byArgumentParser: Bool = false,
                   sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let mappings = try await registry.portkeeper(["mappings", "--json"], takingTurns: true)
    let history = try await registry.portkeeper(["history", "--json"], takingTurns: true)
    try #require(mappings.status == 0 && history.status == 0, "\(mappings.stderr)\(history.stderr)", sourceLocation: sourceLocation)
    let before = registry.files()
    #expect(before.db != nil, sourceLocation: sourceLocation)

    let result = try await registry.portkeeper(arguments, takingTurns: true)

    #expect(registry.files() == before, "the registry's files changed", sourceLocation: sourceLocation)
    if byArgumentParser {
        #expect(result.status == 64, "exit \(result.status)", sourceLocation: sourceLocation)
        let first = result.stderr.split(separator: "\n").first { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        #expect(first?.contains(expected) == true, "stderr: \(result.stderr)", sourceLocation: sourceLocation)
        #expect(first?.hasPrefix("Error:") == true, "stderr: \(result.stderr)", sourceLocation: sourceLocation)
    } else {
        // Every refusal of the bad-input table is a usage error (README, "Exit codes").
        expectOneLineRefusal(result, saying: expected, arguments, status: 64, sourceLocation: sourceLocation)
    }
    #expect(try await registry.portkeeper(["mappings", "--json"], takingTurns: true).stdout == mappings.stdout, sourceLocation: sourceLocation)
    #expect(try await registry.portkeeper(["history", "--json"], takingTurns: true).stdout == history.stdout, sourceLocation: sourceLocation)
}

/// Status `status` (1 unless given: README's "Exit codes") and exactly one non-empty line on
/// stderr, portkeeper's, containing `expected`.
func expectOneLineRefusal(_ result: ProcessResult, saying expected: String, _ arguments: [String] = [], status: Int32 = 1,
                          sourceLocation: SourceLocation = #_sourceLocation) {
    let lines = result.stderr.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
    #expect(result.status == status, "\(arguments): exit \(result.status), stderr: \(result.stderr)", sourceLocation: sourceLocation)
    #expect(lines.count == 1, "\(arguments): stderr is not one line: \(result.stderr)", sourceLocation: sourceLocation)
    // Under --json the one line is an error document (schemas/error.schema.json).
    let prefix = arguments.contains("--json") ? #"{"error":{"code":"# : "portkeeper: error: "
    #expect(lines.first?.hasPrefix(prefix) == true, "\(arguments): \(result.stderr)", sourceLocation: sourceLocation)
    #expect(lines.first?.contains(expected) == true, "\(arguments): expected “\(expected)” in: \(result.stderr)", sourceLocation: sourceLocation)
}

/// Starts `portkeeper reconcile` on `registry`, waits until `gateway` has received `action`
/// (whose reply was made to hang), runs `atTheKill` with that call, then kills the portkeeper
/// process with SIGKILL and returns how it ended.
func killReconcile(_ registry: ScratchRegistry, _ gateway: SimulatedGateway, whenItSent action: String,
                   atTheKill: (FakeSOAPRequest) throws -> Void = { _ in }) async throws -> ProcessResult {
    let executable = try Products.path("portkeeper")
    let running = Task { try await registry.portkeeper(["reconcile"]) }
    do {
        try await waitUntil("the gateway received \(action)") {
            gateway.actionCount(action) >= 1 && gateway.requests.contains { $0.header("SOAPAction")?.contains("#\(action)") == true }
        }
        let request = try #require(gateway.requests.last { $0.header("SOAPAction")?.contains("#\(action)") == true })
        try atTheKill(try #require(FakeSOAPRequest.parse(request.body)))
        let pids = ProcessTable.pids(executable: executable, arguments: ["reconcile", registry.path])
        try #require(pids.count == 1, "portkeeper reconcile processes found: \(pids)")
        #expect(kill(pids[0], SIGKILL) == 0)
    } catch {
        // Do not leave it running: it ends by itself within its HTTP deadline anyway.
        for pid in ProcessTable.pids(executable: executable, arguments: ["reconcile", registry.path]) { kill(pid, SIGKILL) }
        _ = try? await running.value
        throw error
    }
    return try await running.value
}
