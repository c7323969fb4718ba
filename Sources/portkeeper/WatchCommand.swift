import ArgumentParser
import Dispatch
import Foundation
import Logging
import PortKeeper
import SystemdNotify

struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Keep the declared mappings true until stopped (SIGTERM or SIGINT).",
        discussion: """
            Checks every --interval seconds (with jitter), at once when the gateway announces a \
            restart or a move over SSDP, and when a lease is half gone. Each change is a revision \
            with actor `watch`. Logs one line per event on stderr; with --json, writes one JSON \
            object per event line on stdout instead (schemas/watch-event.schema.json).

            Under systemd (Type=notify) it says READY=1 after its first check, the last event as \
            STATUS=, WATCHDOG=1 at half the unit's WatchdogSec=, and STOPPING=1 on SIGTERM.

            Example:
              portkeeper watch --interval 60
            """
    )

    @Option(name: .long, help: ArgumentHelp("Seconds between checks (at least 0.05).", valueName: "seconds"))
    var interval: Double = 60
    @Flag(name: .customLong("no-announcements"), help: "Do not listen for the gateway's SSDP announcements; rely on the periodic check.")
    var noAnnouncements = false
    @OptionGroup var gateway: GatewayArgument
    @OptionGroup var registry: RegistryArguments
    @OptionGroup var discovery: DiscoveryArguments
    @OptionGroup var output: OutputArguments

    func validate() throws {
        guard (0.05...86_400).contains(interval) else { throw ValidationError("--interval must be between 0.05 and 86400 seconds") }
    }

    func run() async throws {
        try await reportingFailures(verbose: discovery.verbose, json: output.json, defaultLevel: .info) {
            let stop = StopRequest()
            let service = ServiceNotifier(environment: ProcessInfo.processInfo.environment)
            // Signals become a stop request honoured between operations.
            var sources: [any DispatchSourceSignal] = []
            for signalNumber in [SIGTERM, SIGINT] {
                signal(signalNumber, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
                source.setEventHandler {
                    service.stopping(status: "stopping on \(signalNumber == SIGTERM ? "SIGTERM" : "SIGINT"), between operations")
                    stop.request()
                }
                source.resume()
                sources.append(source)
            }
            defer { sources.forEach { $0.cancel() } }
            var watcher = Watcher(keeper: discovery.keeper(try registry.open(beforeActing: true), deadline: false), reference: gateway.gateway,
                                  interval: .milliseconds(Int(interval * 1000)))
            watcher.listenForAnnouncements = !noAnnouncements
            let logger = Logger(label: "portkeeper.watch")
            let progress = ServiceProgress(service)
            // The watchdog's keep-alive comes from a timer of its own: a wait of one interval or
            // a long reconcile is not a hang, a runtime that no longer runs timers is.
            let keepAlive = service.watchdogInterval.map { interval in
                Task { while !Task.isCancelled { service.watchdog(); try? await Task.sleep(for: interval / 2) } }
            }
            defer { keepAlive?.cancel() }
            let json = output.json
            let level = logLevel(verbose: discovery.verbose, defaultLevel: .info)
            try await watcher.run(stop: stop) { event in
                if json {
                    if let line = WatchLog.json(for: event, atLeast: level) { emit(line) }
                } else {
                    WatchLog.log(event, to: logger)
                }
                progress.record(event)
            }
        }
    }
}

/// What the service manager hears of the watch: READY=1 once the first check is over (whatever
/// it found: a router that is down must not hold the unit in "activating"), then each event's
/// line as STATUS=.
final class ServiceProgress: @unchecked Sendable {
    private let service: ServiceNotifier
    private var ready = false
    private let lock = NSLock()

    init(_ service: ServiceNotifier) {
        self.service = service
    }

    func record(_ event: WatchEvent) {
        guard service.isActive else { return }
        let (_, line) = WatchLog.line(for: event)
        lock.lock()
        let becomesReady = !ready && Self.endsACheck(event)
        if becomesReady { ready = true }
        lock.unlock()
        if becomesReady { service.ready(status: line) } else { service.status(line) }
    }

    /// Whether `event` is the outcome of a check (so the watch has done its first).
    static func endsACheck(_ event: WatchEvent) -> Bool {
        switch event {
        case .verified, .restored, .renewed, .updated, .deleted, .notInSync, .operationsFailed, .away, .retrying: true
        default: false
        }
    }
}
