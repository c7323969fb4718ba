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
            PlanCommand.self, ReconcileCommand.self, HistoryCommand.self, RollbackCommand.self, WatchCommand.self,
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
        if let error = error as? RegistryError {
            message = error.description
        } else {
            message = Failure.explain(error, doing: CommandLine.arguments.dropFirst().first ?? "the command").description
        }
        Problems.error(message)
        throw ExitCode.failure
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
