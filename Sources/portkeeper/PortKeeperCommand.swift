import ArgumentParser
import Foundation
import Logging
import PortKeeper

@main
struct PortKeeperCommand: AsyncParsableCommand {
    /// Runs the command line, first catching a mistyped subcommand, which ArgumentParser would
    /// only call an "unexpected argument". Under --json a usage error is one line of JSON on
    /// stderr, as every other failure (code "usage", exit 64).
    static func main() async {
        // A reader gone from stdout or stderr is handled where the text is written
        // (StandardStream): the same whichever path writes, ArgumentParser's included.
        signal(SIGPIPE, SIG_IGN)
        let arguments = Array(CommandLine.arguments.dropFirst())
        let json = arguments.contains("--json")
        if let first = arguments.first, let suggestion = suggestion(for: first) {
            if json {
                Problems.errorDocument(ErrorJSON(code: usageCode, message: "unknown command '\(first)'", hint: "did you mean '\(suggestion)'?"))
            } else {
                StandardStream.error.write("Error: unknown command '\(first)'. Did you mean '\(suggestion)'?\nUsage: portkeeper <subcommand>\n  See 'portkeeper --help' for more information.\n")
            }
            Foundation.exit(ExitCode.validationFailure.rawValue)
        }
        guard json else { return await main(arguments) }
        do {
            var command = try parseAsRoot(arguments)
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            // The command's own exit codes, help and --version as ever; a refused command line as JSON.
            if error is ExitCode || exitCode(for: error) == .success { exit(withError: error) }
            Problems.errorDocument(ErrorJSON(code: usageCode, message: message(for: error), hint: "see 'portkeeper help' for how to use it"))
            Foundation.exit(exitCode(for: error).rawValue)
        }
    }

    /// The `code` of a command line ArgumentParser or a command's `validate()` refused.
    static let usageCode = "usage"

    /// The subcommand `word` was probably meant to be, when it is none but close to one
    /// (a prefix of it, or at most two letters off); nil for an option or a known name.
    static func suggestion(for word: String) -> String? {
        guard !word.hasPrefix("-") else { return nil }
        let names = configuration.subcommands.map { $0._commandName } + ["help"]
        guard !names.contains(word) else { return nil }
        let lowered = word.lowercased()
        if let prefixed = names.first(where: { $0.hasPrefix(lowered) && lowered.count >= 2 }) { return prefixed }
        let scored = names.map { ($0, editDistance(lowered, $0)) }.filter { $0.1 <= 2 }
        return scored.min { $0.1 < $1.1 }?.0
    }

    /// Levenshtein distance between two short words.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }

    static let configuration = CommandConfiguration(
        commandName: "portkeeper",
        abstract: "Keeps a router's port mappings (UPnP IGD, PCP, NAT-PMP) the way you declared them.",
        discussion: HelpText.root,
        version: "0.1.0",
        subcommands: [
            DiscoverCommand.self, StatusCommand.self, ListCommand.self, GatewaysCommand.self,
            AddCommand.self, RemoveCommand.self, MappingsCommand.self,
            PlanCommand.self, ReconcileCommand.self, ApplyCommand.self, ExportCommand.self, HistoryCommand.self, RollbackCommand.self, WatchCommand.self,
        ]
    )
}

/// The least level logged: everything with --verbose (each request and answer, at trace),
/// else `$PORTKEEPER_LOG_LEVEL`, else the command's default.
func logLevel(verbose: Bool, defaultLevel: Logger.Level) -> Logger.Level {
    verbose ? .trace : (ProcessInfo.processInfo.environment["PORTKEEPER_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? defaultLevel)
}

func setUpLogging(verbose: Bool, defaultLevel: Logger.Level) {
    let level = logLevel(verbose: verbose, defaultLevel: defaultLevel)
    let journal = JournalLogHandler.stderrIsJournal()
    LoggingSystem.bootstrap { label in
        if journal { return JournalLogHandler(logLevel: level, label: label) }
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = level
        return handler
    }
}
