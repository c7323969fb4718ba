import Foundation
import IGDTestSupport
import Testing

/// Help that teaches: examples everywhere, exit codes and environment at the root, typos caught.
/// (Only help and refusals: nothing here reaches a network.)
@Suite("Help and typos")
struct HelpTests {
    static let subcommands = ["discover", "status", "list", "gateways", "add", "remove", "mappings", "plan",
                              "reconcile", "apply", "export", "history", "rollback", "watch"]

    func portkeeper(_ arguments: [String]) async throws -> ProcessResult {
        try await ProcessRunner.run(try Products.path("portkeeper"), arguments, environment: PortKeeperCLI.environment(for: arguments), timeout: .seconds(60))
    }

    @Test("every subcommand's help has examples", arguments: subcommands)
    func examples(subcommand: String) async throws {
        let result = try await portkeeper([subcommand, "--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("Example"), "\(subcommand) --help: \(result.stdout)")
        #expect(result.stdout.contains("portkeeper \(subcommand)"), "\(subcommand)'s examples do not show it")
    }

    @Test("the root help lists the exit codes and the environment variables")
    func rootHelp() async throws {
        let help = try await portkeeper(["--help"]).stdout
        for code in ["0 ", "1 ", "2 ", "3 ", "64", "65", "75", "78"] { #expect(help.contains("\n  \(code)"), "exit code \(code): \(help)") }
        for variable in ["PORTKEEPER_DB", "PORTKEEPER_REQUEST_TIMEOUT", "PORTKEEPER_LOG_LEVEL", "NOTIFY_SOCKET"] {
            #expect(help.contains(variable), "\(variable): \(help)")
        }
        // The listed subcommands are the ones that exist.
        #expect(Set(Self.subcommands).isSubset(of: Set(help.split(whereSeparator: \.isWhitespace).map(String.init))))
    }

    @Test("a mistyped subcommand gets a suggestion and exit 64", arguments: [
        ("lst", "list"), ("recon", "reconcile"), ("aply", "apply"), ("histroy", "history"), ("Mappings", "mappings"),
    ])
    func typo(word: String, meant: String) async throws {
        let result = try await portkeeper([word])
        #expect(result.status == 64)
        #expect(result.stderr.split(separator: "\n").first == "Error: unknown command '\(word)'. Did you mean '\(meant)'?", "\(result.stderr)")
    }

    @Test("a word close to no subcommand is ArgumentParser's plain refusal")
    func noSuggestion() async throws {
        let result = try await portkeeper(["xyzzy"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("Unexpected argument 'xyzzy'"), "\(result.stderr)")
        #expect(!result.stderr.contains("Did you mean"))
    }
}
