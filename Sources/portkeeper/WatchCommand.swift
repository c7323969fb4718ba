import ArgumentParser
import Dispatch
import Foundation
import Logging
import PortKeeper

struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Keep the declared mappings true until stopped (SIGTERM or SIGINT).",
        discussion: """
            Checks every --interval seconds (with jitter), at once when the gateway announces a \
            restart or a move over SSDP, and when a lease is half gone. Each change is a revision \
            with actor `watch`. Logs one line per event on stderr.
            """
    )

    @Option(name: .long, help: ArgumentHelp("Seconds between checks (at least 0.05).", valueName: "seconds"))
    var interval: Double = 60
    @Flag(name: .customLong("no-announcements"), help: "Do not listen for the gateway's SSDP announcements; rely on the periodic check.")
    var noAnnouncements = false
    @OptionGroup var gateway: GatewayArgument
    @OptionGroup var registry: RegistryArguments
    @OptionGroup var discovery: DiscoveryArguments

    func validate() throws {
        guard (0.05...86_400).contains(interval) else { throw ValidationError("--interval must be between 0.05 and 86400 seconds") }
    }

    func run() async throws {
        try await reportingFailures(verbose: discovery.verbose, defaultLevel: .info) {
            let stop = StopRequest()
            // Signals become a stop request honoured between operations.
            var sources: [any DispatchSourceSignal] = []
            for signalNumber in [SIGTERM, SIGINT] {
                signal(signalNumber, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
                source.setEventHandler { stop.request() }
                source.resume()
                sources.append(source)
            }
            defer { sources.forEach { $0.cancel() } }
            var watcher = Watcher(keeper: discovery.keeper(try registry.open(beforeActing: true), deadline: false), reference: gateway.gateway,
                                  interval: .milliseconds(Int(interval * 1000)))
            watcher.listenForAnnouncements = !noAnnouncements
            let logger = Logger(label: "portkeeper.watch")
            try await watcher.run(stop: stop) { WatchLog.log($0, to: logger) }
        }
    }
}
