import Foundation
import IGDTestSupport
import Testing

/// `portkeeper watch` on a gateway that speaks only PCP and NAT-PMP (miniupnpd with
/// `enable_upnp=no`): a restart of miniupnpd multicasts one PCP ANNOUNCE to 224.0.0.1:5350, and
/// watch restores at once on it; with announcements off, the periodic check's epoch probe does
/// (issue 9 §2, §5).
@Suite("Lab: watch over PCP", .serialized, labEnabled)
struct LabPortControlWatchTests {
    static let gateway = "pcp://\(Lab.lanGateway)"
    static let rule = LabForward(protocol: "TCP", externalPort: 9494, internalClient: Lab.lanClient, internalPort: 9494)

    /// One line of `watch --json`, as far as these tests care.
    struct Event: Decodable {
        var event: String
        var message: String
        var seconds: Double?
    }

    /// The events `watch` has written so far on stdout.
    static func events(_ watch: BackgroundProcess) -> [Event] {
        watch.stdoutSoFar.split(separator: "\n").compactMap { try? JSONDecoder().decode(Event.self, from: Data($0.utf8)) }
    }

    /// Declares 9494/tcp over PCP, starts `watch --json` with `arguments` in the LAN namespace,
    /// waits for its first check, restarts miniupnpd, and waits (30 s at most) for the rule to be
    /// back in the gateway's nft chain.
    /// - Returns: the events watch wrote, and whether the rule came back.
    func restartUnderWatch(_ lab: Lab, _ arguments: [String]) async throws -> (events: [Event], back: Bool, stderr: String) {
        let added = try await lab.portkeeper(["add", "9494/tcp", "--gateway", Self.gateway])
        try #require(added.status == 0, "\(added.stdout)\(added.stderr)")
        #expect(try await lab.forwards() == [Self.rule])
        // The RFC's epoch check allows 2 s of slack (RFC 6887 §8.5): a server restarted within
        // about 3 s of its own start cannot be told from one that kept running. A router that
        // restarts has been up for longer than that; so has this one before it does.
        try await Task.sleep(for: .seconds(5))
        let watch = try lab.startBackground(on: .lan, ["env", "PORTKEEPER_LOG_LEVEL=debug", try Products.path("portkeeper"), "watch", "--json"]
                                                + arguments + ["--db", lab.registryPath])
        let verified = try await waitFor(timeout: .seconds(30), every: .milliseconds(50)) { Self.events(watch).contains { $0.event == "verified" } }
        try #require(verified != nil, "watch did not verify the gateway: \(watch.stdoutSoFar)\(watch.stderrSoFar)")

        try await lab.reboot()
        let back = try await waitFor(timeout: .seconds(30), every: .milliseconds(100)) { try await lab.forwards() == [Self.rule] }
        // The events that follow the restore (restored, checked) are written right after it.
        _ = try await waitFor(timeout: .seconds(10), every: .milliseconds(50)) { Self.events(watch).contains { $0.event == "restored" } }
        let log = await watch.stop()
        #expect(log.status == 0, "\(log.stderr)")
        let events = log.stdout.split(separator: "\n").compactMap { try? JSONDecoder().decode(Event.self, from: Data($0.utf8)) }
        return (events, back != nil, log.stdout + log.stderr)
    }

    @Test("pcp-only: watch --interval 3600 hears the restarted gateway's PCP ANNOUNCE and restores the mapping at once")
    func restoresOnAnnounce() async throws {
        try await withLab(.pcpOnly) { lab in
            let (events, back, output) = try await restartUnderWatch(lab, ["--interval", "3600"])
            #expect(back, "the mapping is not back an hour before the next periodic check: \(output)")
            #expect(!events.contains { $0.event == "not-listening" }, "\(output)")
            let names = events.map(\.event)
            let announced = try #require(names.firstIndex(of: "announced-epoch"), "no announced-epoch event: \(names)")
            let restored = try #require(names.firstIndex(of: "restored"), "no restored event: \(names)")
            #expect(announced < restored, "\(names)")
            #expect(events[announced].message.contains("over PCP"), "\(events[announced].message)")
            #expect(events[restored].message.contains("after the gateway rebooted"), "\(events[restored].message)")
            // The start's first look was the quick check; the announcement's, a full reconcile.
            #expect(names.filter { $0 == "restored" }.count == 1, "\(names)")
        }
    }

    @Test("pcp-only: with --no-announcements, the 2 s check's epoch probe finds the restart and restores; no announcement is told")
    func restoresByPolling() async throws {
        try await withLab(.pcpOnly) { lab in
            let (events, back, output) = try await restartUnderWatch(lab, ["--interval", "2", "--no-announcements"])
            #expect(back, "the mapping is not back: \(output)")
            let names = events.map(\.event)
            #expect(!names.contains("announced-epoch"), "\(names)")
            #expect(!names.contains("not-listening"), "\(names)")
            #expect(names.contains("restored"), "\(names)")
        }
    }
}
