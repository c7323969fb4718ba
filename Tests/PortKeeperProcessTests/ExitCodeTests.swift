import Foundation
import IGDTestSupport
import Testing

/// The exit codes keep one meaning in every command (README, "Exit codes"; issue 10 §3):
/// 0 in sync, 2 changes pending, 3 done but not in sync, 64 a usage error; a conflict is told
/// on stderr.
@Suite("Exit codes, end to end")
struct ExitCodeTests {
    @Test("2 while changes are pending (plan --exit-code, reconcile --dry-run --exit-code), changing nothing; 0 once in sync")
    func changesPending() async throws {
        try await withSeededRegistry("exit2") { registry, gateway in
            #expect(try await registry.portkeeper(["plan", "--exit-code"]).status == 0)
            #expect(try await registry.portkeeper(["reconcile", "--dry-run", "--exit-code"]).status == 0)
            // The router lost a mapping (a reboot).
            gateway.setMappings(gateway.mappings.filter { $0.externalPort != 9000 })
            let adds = gateway.actionCount("AddPortMapping")
            for arguments in [["plan", "--exit-code"], ["reconcile", "--dry-run", "--exit-code"], ["reconcile", "--dry-run", "--exit-code", "--json"]] {
                let result = try await registry.portkeeper(arguments)
                #expect(result.status == 2, "\(arguments): exit \(result.status) \(result.stderr)")
                #expect(result.stderr.isEmpty, "\(arguments): \(result.stderr)")
            }
            #expect(gateway.actionCount("AddPortMapping") == adds)
            let restored = try await registry.portkeeper(["reconcile"])
            #expect(restored.status == 0, "\(restored.stderr)")
            // Each operation's line, and on a pipe never the terminal's progress line.
            #expect(restored.stdout.hasPrefix("  found-missing ") || restored.stdout.hasPrefix("  added         9000/tcp"), "\(restored.stdout)")
            #expect(restored.stdout.contains("  added         9000/tcp → "), "\(restored.stdout)")
            #expect(!restored.stdout.contains("\u{1B}") && !restored.stdout.contains("\r") && !restored.stdout.contains("…"), "\(restored.stdout.debugDescription)")
            #expect(try await registry.portkeeper(["reconcile", "--dry-run", "--exit-code"]).status == 0)
        }
    }

    @Test("3 when a declared port is held by another client: the plan shows it, the conflict goes to stderr, --force makes it 0")
    func conflictIsNotInSync() async throws {
        try await withSeededRegistry("exit3") { registry, gateway in
            gateway.setMappings(gateway.mappings + [SimulatedGateway.Mapping(externalPort: 9100, protocol: "TCP", internalPort: 9100,
                                                                             internalClient: "192.168.1.77", description: "console")])
            let added = try await registry.portkeeper(["add", "9100/tcp", "--description", "mine"])
            #expect(added.status == 3, "exit \(added.status): \(added.stderr)")
            #expect(added.stdout.contains("revision"), "the declaration was recorded: \(added.stdout)")
            let lines = added.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines.first?.hasPrefix("portkeeper: error: 9100/tcp on ") == true, "\(added.stderr)")
            #expect(added.stderr.contains("is held by another client") && added.stderr.contains("--force"), "\(added.stderr)")

            let again = try await registry.portkeeper(["reconcile", "--json"])
            #expect(again.status == 3, "\(again.stderr)")
            // Under --json the conflict is in the document; stderr stays empty (no error happened).
            #expect(again.stderr.isEmpty, "\(again.stderr)")
            let document = try JSONValue.parse(again.stdout)
            #expect(document["inSync"] == .bool(false))
            #expect(document["conflicts"]?.elements.first?["holder"]?["internalClient"] == .string("192.168.1.77"))

            #expect(try await registry.portkeeper(["plan", "--exit-code"]).status == 2)
            let forced = try await registry.portkeeper(["reconcile", "--force"])
            #expect(forced.status == 0, "\(forced.stderr)")
            #expect(gateway.mappings.contains { $0.externalPort == 9100 && $0.description == "mine" })
        }
    }

    @Test("3 when the router refuses an operation (a fault), 1 only when it stops answering")
    func refusalIsNotInSync() async throws {
        try await withSeededRegistry("exit3-fault") { registry, gateway in
            gateway.injectFault(action: "AddPortMapping", code: 501)
            let refused = try await registry.portkeeper(["add", "9200/tcp"])
            #expect(refused.status == 3, "\(refused.stderr)")
            #expect(refused.stderr.contains("501"), "\(refused.stderr)")
        }
    }

    @Test("64 for every kind of input error, whichever command, never 1", arguments: [
        ["add", "8080/tcp", "--lease", "forever"],          // a value ArgumentParser refuses
        ["reconcile", "--deadline", "0"],                   // a value validate() refuses
        ["reconcile", "--exit-code"],                       // options that do not go together
        ["add", "0/tcp"],                                   // a value portkeeper refuses
        ["history", "--gateway", "No Such Router"],         // a --gateway that names nothing known
        ["list", "--gateway", "ftp://127.0.0.1/d.xml"],     // a --gateway that is no reference at all
        ["apply", "-f", "/nonexistent/ports.yaml"],         // a file that cannot be read
        ["rollback", "999999"],                             // a revision that does not exist
        ["remove", "9999/tcp"],                             // a mapping not declared
        ["recncile"],                                       // a mistyped subcommand
    ])
    func usage(arguments: [String]) async throws {
        try await withSeededRegistry("exit64") { registry, _ in
            let result = try await registry.portkeeper(arguments)
            #expect(result.status == 64, "\(arguments): exit \(result.status): \(result.stderr)")
            #expect(!result.stderr.isEmpty)
        }
    }
}
