import Foundation
import IGDTestSupport
import Testing

/// `portkeeper watch` against the real miniupnpd, as real processes.
@Suite("Lab: watch", .serialized, labEnabled)
struct LabWatchTests {
    struct Revision: Decodable {
        typealias Change = LabChange
        var revision: Int
        var actor: String
        var changes: [Change]
    }

    func startWatch(_ lab: Lab, interval: String = "2") throws -> BackgroundProcess {
        // "verified" is logged at debug level: the tests wait for it.
        try lab.startBackground(on: .lan, ["env", "PORTKEEPER_LOG_LEVEL=debug", try Products.path("portkeeper"), "watch", "--interval", interval, "--db", lab.registryPath])
    }

    func declared(_ lab: Lab) async throws -> Set<UInt16> {
        Set(try await lab.upnpcList().map(\.externalPort))
    }

    @Test("a rebooted router gets every mapping back within one interval, and within 2 s of its restart thanks to NOTIFY")
    func restoresAfterReboot() async throws {
        try await withLab(.v2) { lab in
            for port in 9001...9003 { try await lab.portkeeper(["add", "\(port)/tcp", "--description", "kept"]).check() }
            let server = try lab.startBackground(on: .lan, ["socat", "TCP-LISTEN:9001,reuseaddr,fork", "SYSTEM:echo still-here"])
            defer { _ = server.terminate() }
            let watch = try startWatch(lab, interval: "30")
            // Let it start and verify once.
            #expect(try await watch.waitForLog("verified:"), "watch did not verify the gateway")

            // Polling alone would take up to 30 s: the restart's NOTIFY brings it back at once.
            try await lab.reboot()
            let restored = try await waitFor(timeout: .seconds(2)) { try await declared(lab) == [9001, 9002, 9003] }
            #expect(restored != nil, "not restored within 2 s of miniupnpd's restart")
            #expect(try await lab.connectFromOutside(port: 9001)?.contains("still-here") == true)

            let log = await watch.stop()
            #expect(log.status == 0)
            #expect(log.stderr.contains("started: watching"))
            #expect(log.stderr.contains("restored 3 mappings"))
            // A reboot it was told about is not an error.
            #expect(!log.stderr.contains("error:"), "\(log.stderr)")
            let history = try decode([Revision].self, "revisions", try await lab.portkeeper(["history", "--json", "--limit", "1"]))
            #expect(history.first?.actor == "watch")
            #expect(history.first?.changes.contains { $0.kind == "found-missing" && $0.detail.contains("rebooted") } == true)
        }
    }

    @Test("polling alone restores within one interval; a mapping deleted behind watch's back comes back, and history says so")
    func restoresDeletedMapping() async throws {
        try await withLab(.v1) { lab in
            for port in 9001...9002 { try await lab.portkeeper(["add", "\(port)/udp"]).check() }
            let watch = try startWatch(lab)
            #expect(try await watch.waitForLog("verified:"), "watch did not verify the gateway")
            // Deleted (upnpc says so); watch may put it back before anyone looks, so the proof
            // that it was gone is history's found-missing below.
            try await lab.run(on: .lan, ["upnpc", "-u", Lab.descriptionURL, "-d", "9002", "UDP"]).check()
            // Nothing announces a deletion: only the 2 s check can bring it back. The deadline is
            // generous so that a busy machine does not fail it.
            let back = try await waitFor(timeout: .seconds(15)) { try await declared(lab) == [9001, 9002] }
            #expect(back != nil)
            let log = await watch.stop()
            #expect(log.status == 0, "\(log.stderr)")
            let history = try decode([Revision].self, "revisions", try await lab.portkeeper(["history", "--json", "--limit", "1"]))
            #expect(history.first?.actor == "watch")
            #expect(history.first?.changes.contains { $0.kind == "added" && $0.key?.description == "9002/udp" } == true)
            #expect(history.first?.changes.contains { $0.kind == "found-missing" && $0.key?.description == "9002/udp" } == true)
        }
    }

    @Test("portkeeper add from another process is applied by watch within one interval, and nobody sees 'database is locked'")
    func picksUpDeclarationsFromOtherProcesses() async throws {
        try await withLab(.v2) { lab in
            try await lab.portkeeper(["add", "9001/tcp"]).check()
            let watch = try startWatch(lab)
            #expect(try await watch.waitForLog("started: watching"))
            for port in 9002...9006 {
                let added = try await lab.portkeeper(["add", "\(port)/tcp", "--no-apply"])
                #expect(added.status == 0, "\(added.stderr)")
                #expect(!added.stderr.contains("locked"))
            }
            let applied = try await waitFor(timeout: .seconds(15)) { try await declared(lab) == Set(9001...9006) }
            #expect(applied != nil)
            let log = await watch.stop()
            #expect(log.status == 0)
            #expect(!log.stderr.contains("locked"), "\(log.stderr)")
            #expect(try await integrityCheck(lab.registryPath) == "ok")
        }
    }

    @Test("SIGTERM in the middle of a cycle: exit 0, integrity ok, the journal complete, the next reconcile has nothing to do")
    func stopsCleanly() async throws {
        try await withLab(.v2) { lab in
            for port in 9001...9010 { try await lab.portkeeper(["add", "\(port)/tcp"]).check() }
            for round in 0..<3 {
                let watch = try startWatch(lab, interval: "1")
                // SIGTERM once it runs (before its handler is installed, a signal kills any
                // program), at a random point of its cycles.
                #expect(try await watch.waitForLog("started: watching"), "round \(round): watch did not start")
                try await Task.sleep(for: .milliseconds(Int.random(in: 0...1500)))
                let log = await watch.stop()
                #expect(log.status == 0, "round \(round): \(log.stderr)")
                #expect(log.stderr.contains("stopped"))
                #expect(try await integrityCheck(lab.registryPath) == "ok")
                #expect(try await unresolvedOperations(lab.registryPath) == 0)
            }
            let before = try decode([Revision].self, "revisions", try await lab.portkeeper(["history", "--json"])).count
            let reconcile = try await lab.portkeeper(["reconcile"])
            #expect(reconcile.status == 0)
            #expect(try decode([Revision].self, "revisions", try await lab.portkeeper(["history", "--json"])).count == before)

            // Stopped while it has work to do: what it did is journaled, and the rest is left
            // to the next run, not half-done.
            try await lab.reboot()
            let busy = try startWatch(lab, interval: "30")
            #expect(try await busy.waitForLog("started: watching"))
            try await Task.sleep(for: .milliseconds(100))
            let log = await busy.stop()
            #expect(log.status == 0)
            #expect(try await integrityCheck(lab.registryPath) == "ok")
            #expect(try await unresolvedOperations(lab.registryPath) == 0)
            #expect(try await lab.portkeeper(["reconcile"]).status == 0)
            #expect(try await declared(lab) == Set(9001...9010))
        }
    }

    @Test("a lease is renewed at half its length, long before the next periodic check")
    func renewsLeases() async throws {
        try await withLab(.v2) { lab in
            try await lab.portkeeper(["add", "9001/tcp", "--lease", "6"]).check()
            let watch = try startWatch(lab, interval: "60")
            #expect(try await watch.waitForLog("started: watching"))
            func renewals() async throws -> Int {
                try decode([Revision].self, "revisions", try await lab.portkeeper(["history", "--json"]))
                    .filter { $0.actor == "watch" && $0.changes.contains { $0.kind == "renewed" && $0.key?.description == "9001/tcp" } }.count
            }
            // At about 3 s and 6 s (half of 6 s each time); the next periodic check is 60 s away,
            // so two renewals within 30 s can only come from the lease timing.
            let renewedTwice = try await waitFor(timeout: .seconds(30), every: .milliseconds(500)) { try await renewals() >= 2 }
            #expect(try await declared(lab) == [9001])
            let lease = try await lab.upnpcList().first?.lease ?? 0
            #expect(lease > 0 && lease <= 6)
            let log = await watch.stop()
            #expect(log.status == 0)
            #expect(renewedTwice != nil, "\(log.stderr)")
        }
    }

    /// A scrape of `GET /metrics` on the LAN client's loopback, where watch runs.
    func scrape(_ lab: Lab, port: Int) async throws -> PrometheusText? {
        let answer = try await lab.run(on: .lan, ["socat", "-t", "5", "-T", "10", "-", "TCP:127.0.0.1:\(port)"],
                                       timeout: .seconds(20), stdin: "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        let parts = answer.stdout.components(separatedBy: "\r\n\r\n")
        guard answer.succeeded, parts.count >= 2, parts[0].hasPrefix("HTTP/1.1 200") else { return nil }
        return try PrometheusText(parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    @Test("metrics as a textfile and at GET /metrics on loopback: a mapping deleted behind watch's back is one restore, and declared equals present again")
    func metrics() async throws {
        try await withLab(.v1) { lab in
            // Served to this machine only: anything else is a usage error, before anything starts.
            let refused = try await lab.portkeeper(["watch", "--metrics-listen", "0.0.0.0:9464"])
            #expect(refused.status == 64)
            #expect(refused.stderr.contains("not a loopback address"), "\(refused.stderr)")

            for port in 9001...9002 { try await lab.portkeeper(["add", "\(port)/udp"]).check() }
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("portkeeper-metrics-\(lab.name)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let file = directory + "/portkeeper.prom"
            let watch = try lab.startBackground(on: .lan, ["env", "PORTKEEPER_LOG_LEVEL=debug", try Products.path("portkeeper"), "watch", "--interval", "2",
                                                           "--db", lab.registryPath, "--metrics-file", file, "--metrics-listen", "127.0.0.1:9464"])
            #expect(try await watch.waitForLog("serving metrics at http://127.0.0.1:9464/metrics"), "no endpoint")
            #expect(try await watch.waitForLog("verified:"), "watch did not verify the gateway")
            let first = try #require(try await scrape(lab, port: 9464))
            let udn = try #require(first.samples.keys.first { $0.hasPrefix(WatchMetricsNames.declared + "{") }
                .flatMap { $0.split(separator: "\"").dropFirst().first }.map(String.init))
            let gateway = ["gateway": udn]
            #expect(first.value(WatchMetricsNames.declared, gateway) == 2)
            #expect(first.value(WatchMetricsNames.restored, gateway) == 0)

            try await lab.run(on: .lan, ["upnpc", "-u", Lab.descriptionURL, "-d", "9002", "UDP"]).check()
            // Only the 2 s check can notice; the deadline is generous for a busy machine.
            var last: PrometheusText?
            let restored = try await waitFor(timeout: .seconds(20), every: .milliseconds(250)) {
                last = try await scrape(lab, port: 9464)
                guard let text = last else { return false }
                return text.value(WatchMetricsNames.restored, gateway) == 1 && text.value(WatchMetricsNames.declared, gateway) == 2
                    && text.value(WatchMetricsNames.present, gateway) == 2 && text.value(WatchMetricsNames.missing, gateway) == 0
            }
            #expect(restored != nil, "last scrape: \(last.map(String.init(describing:)) ?? "none")")
            #expect((last?.value(WatchMetricsNames.lastCheck, gateway) ?? 0) > 1_600_000_000)
            #expect(last?.value(WatchMetricsNames.errors, ["gateway": udn, "kind": "gateway-unreachable"]) == 0)

            let log = await watch.stop()
            #expect(log.status == 0, "\(log.stderr)")
            // The textfile, written after every event, says the same.
            let text = try PrometheusText(String(contentsOfFile: file, encoding: .utf8))
            #expect(text.value(WatchMetricsNames.restored, gateway) == 1)
            #expect(text.value(WatchMetricsNames.present, gateway) == 2)
            #expect(text.types[WatchMetricsNames.restored] == "counter")
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["portkeeper.prom"])
        }
    }
}

/// The metric names of the README's "Metrics" (the lab tests do not link the metrics module,
/// so a renamed metric fails here as it would for a dashboard).
enum WatchMetricsNames {
    static let declared = "portkeeper_mappings_declared"
    static let present = "portkeeper_mappings_present"
    static let missing = "portkeeper_mappings_missing"
    static let restored = "portkeeper_mappings_restored_total"
    static let errors = "portkeeper_errors_total"
    static let lastCheck = "portkeeper_last_successful_check_timestamp_seconds"
}
