import ArgumentParser
import Dispatch
import Foundation
import Logging
import PortKeeper
import PortKeeperMetrics
import Synchronization
import SystemdNotify

struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Keep the declared mappings true until stopped (SIGTERM or SIGINT).",
        discussion: """
            Checks every --interval seconds (with jitter), at once when the gateway announces a \
            restart or a move over SSDP, or a restart over PCP or NAT-PMP (UDP 5350), and when a lease is half gone. Each change is a revision \
            with actor `watch`. Logs one line per event on stderr; with --json, writes one JSON \
            object per event line on stdout instead (schemas/watch-event.schema.json).

            Under systemd (Type=notify) it says READY=1 after its first check, the last event as \
            STATUS=, WATCHDOG=1 at half the unit's WatchdogSec=, and STOPPING=1 on SIGTERM.

            --metrics-file writes the metrics (README, "Metrics") in node_exporter's textfile \
            format after every event, replacing the file whole; --metrics-listen serves them at \
            GET /metrics on a loopback address.

            Examples:
              portkeeper watch --interval 60
              portkeeper watch --metrics-file /var/lib/node_exporter/textfile_collector/portkeeper.prom
              portkeeper watch --metrics-listen 127.0.0.1:9464
            """
    )

    @Option(name: .long, help: ArgumentHelp("Seconds between checks (at least 0.05).", valueName: "seconds"))
    var interval: Double = 60
    @Flag(name: .customLong("no-announcements"), help: "Do not listen for the gateway's announcements (SSDP NOTIFY, PCP ANNOUNCE, NAT-PMP on UDP 5350); rely on the periodic check.")
    var noAnnouncements = false
    @Option(name: .customLong("metrics-file"), help: ArgumentHelp("Write the metrics to this file (node_exporter textfile format) after every event.", valueName: "path"))
    var metricsFile: String?
    @Option(name: .customLong("metrics-listen"), help: ArgumentHelp("Serve the metrics at GET /metrics on this loopback address (127.0.0.1:9464, [::1]:9464; port 0 picks one).", valueName: "address:port"))
    var metricsListen: String?
    @OptionGroup var gateway: GatewayArgument
    @OptionGroup var registry: RegistryArguments
    @OptionGroup var discovery: DiscoveryArguments
    @OptionGroup var output: OutputArguments

    func validate() throws {
        guard (0.05...86_400).contains(interval) else { throw ValidationError("--interval must be between 0.05 and 86400 seconds") }
        if let metricsFile, metricsFile.isEmpty || metricsFile.hasSuffix("/") {
            throw ValidationError("--metrics-file takes a file's path, such as /var/lib/node_exporter/textfile_collector/portkeeper.prom")
        }
        do {
            _ = try metricsListen.map { try LoopbackAddress(parsing: $0) }
        } catch {
            throw ValidationError("--metrics-listen: \(error)")
        }
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
            let metrics = try await WatchMetricsOutput.start(file: metricsFile, listen: metricsListen.flatMap { try? LoopbackAddress(parsing: $0) },
                                                             logger: logger)
            do {
                try await watcher.run(stop: stop) { event in
                    if json {
                        if let line = WatchLog.json(for: event, atLeast: level) { emit(line) }
                    } else {
                        WatchLog.log(event, to: logger)
                    }
                    progress.record(event)
                    metrics?.record(event)
                }
            } catch {
                await metrics?.stop()
                throw error
            }
            await metrics?.stop()
        }
    }
}

/// Where watch's metrics go: the textfile, rewritten after every event, and the loopback
/// endpoint, which renders them at each scrape.
final class WatchMetricsOutput: Sendable {
    private let exposition: MetricsExposition
    private let file: MetricsTextfile?
    private let endpoint: MetricsEndpoint?
    private let logger: Logger
    /// The last write failure logged, so that a full disk is said once, not at every event.
    private let lastFailure = Mutex<MetricsTextfile.WriteError?>(nil)

    /// Writes the file once (so that a path that cannot be written fails now, in one line) and
    /// starts the endpoint; nil when neither is asked for.
    static func start(file path: String?, listen: LoopbackAddress?, logger: Logger) async throws -> WatchMetricsOutput? {
        guard path != nil || listen != nil else { return nil }
        let file = path.map(MetricsTextfile.init)
        let exposition = MetricsExposition()
        do {
            try file?.write(exposition.render())
        } catch {
            throw PortKeeperError(.invalidInput, "--metrics-file: \(error)", hint: "give a path in a directory this user can write")
        }
        var endpoint: MetricsEndpoint?
        if let listen {
            do {
                endpoint = try await MetricsEndpoint.start(on: listen) { exposition.render() }
            } catch {
                throw PortKeeperError(.localNetwork, "--metrics-listen: cannot listen on \(listen): \(error)", hint: "choose another port")
            }
        }
        let output = WatchMetricsOutput(exposition: exposition, file: file, endpoint: endpoint, logger: logger)
        if let endpoint { logger.info("serving metrics at http://\(endpoint.address)/metrics", source: "PortKeeper") }
        return output
    }

    private init(exposition: MetricsExposition, file: MetricsTextfile?, endpoint: MetricsEndpoint?, logger: Logger) {
        self.exposition = exposition
        self.file = file
        self.endpoint = endpoint
        self.logger = logger
    }

    func record(_ event: WatchEvent) {
        exposition.metrics.record(event)
        guard let file else { return }
        do {
            try file.write(exposition.render())
            lastFailure.withLock { $0 = nil }
        } catch {
            let isNew = lastFailure.withLock { last in
                defer { last = error }
                return last != error
            }
            if isNew { logger.warning("\(error); the metrics file keeps its last content", source: "PortKeeper") }
        }
    }

    func stop() async {
        await endpoint?.stop()
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
        // The figures after a look are for the metrics; STATUS= keeps the event before them.
        if case .checked = event { return }
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
