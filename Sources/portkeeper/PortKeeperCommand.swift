import ArgumentParser
import Foundation
import Logging
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

func setUpLogging(verbose: Bool, defaultLevel: Logger.Level) {
    let level: Logger.Level = verbose ? .debug : (ProcessInfo.processInfo.environment["PORTKEEPER_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? defaultLevel)
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = level
        return handler
    }
}
