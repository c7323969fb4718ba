import ArgumentParser
import Foundation
import Logging
import MappingRegistry
import PortKeeper

@main
struct PortKeeperCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "portkeeper",
        abstract: "Keeps a router's UPnP port mappings the way you declared them.",
        discussion: "Discovery sends SSDP multicast (239.255.255.250:1900) on your LAN.",
        version: "0.1.0",
        subcommands: [
            DiscoverCommand.self, StatusCommand.self, ListCommand.self, GatewaysCommand.self,
            AddCommand.self, RemoveCommand.self, MappingsCommand.self,
            PlanCommand.self, ReconcileCommand.self, ApplyCommand.self, ExportCommand.self, HistoryCommand.self, RollbackCommand.self, WatchCommand.self,
        ]
    )
}

/// Runs a command body, printing any failure as one line on stderr and exiting non-zero.
func reportingFailures(verbose: Bool, defaultLevel: Logger.Level = .warning, _ body: () async throws -> Void) async throws {
    setUpLogging(verbose: verbose, defaultLevel: defaultLevel)
    do {
        try await body()
    } catch let error as ExitCode {
        throw error
    } catch {
        let message: String
        var exitCode = ExitCode.failure
        if let error = error as? RegistryError {
            message = error.description
            exitCode = registryExitCode(error.kind)
        } else if let error = error as? InputError {
            message = error.description
            exitCode = ExitCode(64)
        } else {
            message = Failure.explain(error, doing: CommandLine.arguments.dropFirst().first ?? "the command").description
        }
        Problems.error(message)
        throw exitCode
    }
}

/// The exit codes of registry failures a script may want to tell apart (README, "Exit codes"),
/// from sysexits.h so as not to collide with 0 ok, 1 error, 2 changes pending, 3 not in sync,
/// 64 usage: 65 (EX_DATAERR) the registry is damaged; 75 (EX_TEMPFAIL) it is busy, try again;
/// 78 (EX_CONFIG) it was written by a newer portkeeper. Every other failure exits 1.
func registryExitCode(_ kind: RegistryError.Kind) -> ExitCode {
    switch kind {
    case .corrupt: ExitCode(65)
    case .busy: ExitCode(75)
    case .newerVersion: ExitCode(78)
    default: .failure
    }
}

private func setUpLogging(verbose: Bool, defaultLevel: Logger.Level) {
    let level: Logger.Level = verbose ? .debug : (ProcessInfo.processInfo.environment["PORTKEEPER_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? defaultLevel)
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = level
        return handler
    }
}
