import Foundation
import IGDTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What `mappings --json` says a gateway granted.
private struct DeclaredWithGrant: Decodable {
    struct Mapping: Decodable {
        var externalPort: UInt16
    }
    struct Granted: Decodable {
        var via: String
        var externalPort: UInt16
        var externalAddress: String?
        var lifetime: UInt32?
    }
    var mapping: Mapping
    var granted: Granted?
}

/// portkeeper as a keeper on a gateway that speaks only PCP and NAT-PMP (miniupnpd with
/// `enable_upnp=no`), end to end: the CLI declares and reconciles, the nft chain and a TCP
/// connection from the outside host show the mapping, a restart of miniupnpd (a new epoch,
/// an empty table) is repaired, a reconcile killed mid-MAP converges with one mapping per key,
/// and rollback works as over UPnP (issue 9 §5).
@Suite("Lab: portkeeper keeps mappings over PCP", .serialized, labEnabled)
struct LabPortControlKeeperTests {
    static let gateway = "pcp://\(Lab.lanGateway)"

    @Test("pcp-only: add → TCP from outside → restart of the gateway → reconcile restores it → remove and rollback")
    func keepsAcrossRestart() async throws {
        try await withLab(.pcpOnly) { lab in
            let server = try lab.startBackground(on: .lan, ["socat", "TCP-LISTEN:9292,reuseaddr,fork", "SYSTEM:echo hello-over-pcp"])
            defer { _ = server.terminate() }
            try await lab.waitUntilListening(on: .lan, tcpPort: 9292)

            let added = try await lab.portkeeper(["add", "9292/tcp", "--description", "pcp web", "--gateway", Self.gateway])
            try #require(added.status == 0, "\(added.stdout)\(added.stderr)\n\(lab.gatewayLog.suffix(1500))")
            let rule = LabForward(protocol: "TCP", externalPort: 9292, internalClient: Lab.lanClient, internalPort: 9292)
            #expect(try await lab.forwards() == [rule])
            #expect(try await lab.reachFromOutsideOverPCP(port: 9292) == "hello-over-pcp\n")

            struct Known: Decodable { var `protocol`: String; var protocols: [String]; var controlURL: String? }
            let gateways = try decode([Known].self, "gateways", try await lab.portkeeper(["gateways", "--json"]))
            #expect(gateways.map(\.protocol) == ["pcp"] && gateways.first?.protocols == ["pcp", "natpmp"] && gateways.first?.controlURL == nil)
            let mappings = try decode([DeclaredWithGrant].self, "mappings", try await lab.portkeeper(["mappings", "--json"]))
            #expect(mappings.first?.granted?.via == "pcp")
            #expect(mappings.first?.granted?.externalPort == 9292)
            #expect(mappings.first?.granted?.externalAddress == Lab.wanGateway)

            struct Status: Decodable { var externalIP: String?; var uptime: UInt32? }
            let status = try decode(Status.self, try await lab.portkeeper(["status", "--json"]))
            #expect(status.externalIP == Lab.wanGateway && status.uptime != nil)

            // In sync: one MAP (the verification) and no revision.
            let revisions = try await lab.revisionCount()
            let again = try await lab.portkeeper(["reconcile"])
            #expect(again.status == 0, "\(again.stderr)")
            #expect(try await lab.revisionCount() == revisions)

            // list says it cannot list, and shows what portkeeper made.
            let list = try await lab.portkeeper(["list"])
            #expect(list.status == 0 && list.stdout.contains("cannot list the router's table") && list.stdout.contains("9292"), "\(list.stdout)\(list.stderr)")

            // The gateway restarts: its table and epoch are gone. The epoch check has 2 s of
            // slack (RFC 6887 §8.5): a restart is told from the epoch only once the server had
            // been up a few seconds at the last answer, so wait until it says 4 s (status asks).
            let upFourSeconds = try await waitFor(timeout: .seconds(30), every: .milliseconds(500)) {
                (try decode(Status.self, try await lab.portkeeper(["status", "--json"])).uptime ?? 0) >= 4
            }
            try #require(upFourSeconds != nil)
            try await lab.reboot()
            #expect(try await lab.forwards().isEmpty)
            let plan = try await lab.portkeeper(["plan", "--exit-code"])
            #expect(plan.status == 2, "plan after the restart: \(plan.stdout)\(plan.stderr)")
            let restored = try await lab.portkeeper(["reconcile"])
            #expect(restored.status == 0, "\(restored.stdout)\(restored.stderr)")
            #expect(try await lab.forwards() == [rule])
            #expect(try await lab.reachFromOutsideOverPCP(port: 9292) == "hello-over-pcp\n")

            // remove deletes it with its nonce; rollback brings it back.
            let before = try await lab.revisionCount()
            let removed = try await lab.portkeeper(["remove", "9292/tcp"])
            #expect(removed.status == 0, "\(removed.stdout)\(removed.stderr)")
            #expect(try await lab.forwards().isEmpty)
            let rollback = try await lab.portkeeper(["rollback", String(before)])
            #expect(rollback.status == 0, "\(rollback.stdout)\(rollback.stderr)")
            #expect(try await lab.forwards() == [rule])
        }
    }

    @Test("pcp-only: the first add with an empty registry and no --gateway finds the gateway by discovery over PCP, records it once, and maps over PCP")
    func firstUseDiscoversPCP() async throws {
        try await withLab(.pcpOnly) { lab in
            let added = try await lab.portkeeper(["add", "9191/tcp"])
            try #require(added.status == 0, "\(added.stdout)\(added.stderr)")
            #expect(try await lab.forwards().contains(LabForward(protocol: "TCP", externalPort: 9191, internalClient: Lab.lanClient, internalPort: 9191)))
            let discovered = try await lab.portkeeper(["discover"])
            #expect(discovered.status == 0, "\(discovered.stderr)")
            struct Known: Decodable { var udn: String; var `protocol`: String; var portControlServer: String? }
            let known = try decode([Known].self, "gateways", try await lab.portkeeper(["gateways", "--json"]))
            let mac = try await lab.gatewayLANHardwareAddress()
            #expect(known.count == 1, "\(known)")
            #expect(known.first?.udn == "pcp:\(Lab.lanGateway)/\(mac)" && known.first?.protocol == "pcp" && known.first?.portControlServer == Lab.lanGateway)
        }
    }

    @Test("v2-pmp: what portkeeper makes over NAT-PMP and over PCP is listed by upnpc -l on the same gateway, and what natpmpc makes is listed by portkeeper over UPnP", .enabled(if: Lab.shouldRunWithNATPMPC))
    func oneTableThreeDoors() async throws {
        try await withLab(.v2PMP) { lab in
            let overNATPMP = try await lab.portkeeper(["add", "9797/tcp", "--protocol", "natpmp", "--gateway", Self.gateway])
            try #require(overNATPMP.status == 0, "\(overNATPMP.stdout)\(overNATPMP.stderr)")
            #expect(try await lab.upnpcList().contains { $0.externalPort == 9797 && $0.proto == "TCP" && $0.internalClient == Lab.lanClient })
            let overPCP = try await lab.portkeeper(["add", "9798/udp", "--protocol", "pcp"])
            try #require(overPCP.status == 0, "\(overPCP.stdout)\(overPCP.stderr)")
            #expect(try await lab.upnpcList().contains { $0.externalPort == 9798 && $0.proto == "UDP" && $0.internalClient == Lab.lanClient })
            // The gateway, named by its PCP server, is the UPnP one too: one gateway.
            struct Known: Decodable { var protocols: [String]; var `protocol`: String }
            let known = try decode([Known].self, "gateways", try await lab.portkeeper(["gateways", "--json"]))
            #expect(known.count == 1 && known.first?.protocol == "pcp", "\(known)")

            let reply = try await lab.natpmpc(["-a", "9799", "9799", "tcp", "3600"])
            #expect(reply.output.contains("9799"), "\(reply.output)")
            let listed = try await lab.run(on: .lan, [try Products.path("portkeeper"), "list", "--gateway", Lab.descriptionURL, "--db", lab.registryPath + "-upnp"])
            #expect(listed.status == 0 && listed.stdout.contains("9799"), "\(listed.stdout)\(listed.stderr)")
            for suffix in ["", "-wal", "-shm", ".lock"] { try? FileManager.default.removeItem(atPath: lab.registryPath + "-upnp" + suffix) }
        }
    }

    /// The first command after the switch: reconcile finds the gateway again over PCP and keeps
    /// going; status (which reads the UPnP description) asks again over PCP.
    @Test("v2-pmp, then UPnP switched off at the router (PCP left on): the gateway is kept over PCP from then on, history says so",
          arguments: ["reconcile", "status"])
    func upnpSwitchedOff(firstCommand: String) async throws {
        try await withLab(.v2PMP) { lab in
            let server = try lab.startBackground(on: .lan, ["socat", "TCP-LISTEN:9393,reuseaddr,fork", "SYSTEM:echo still-here"])
            defer { _ = server.terminate() }
            try await lab.waitUntilListening(on: .lan, tcpPort: 9393)
            struct Known: Decodable { var `protocol`: String; var controlURL: String? }

            // First use: discovery finds UPnP and PCP on one gateway; UPnP is preferred.
            let added = try await lab.portkeeper(["add", "9393/tcp", "--description", "web"])
            try #require(added.status == 0, "\(added.stdout)\(added.stderr)")
            let before = try decode([Known].self, "gateways", try await lab.portkeeper(["gateways", "--json"]))
            try #require(before.map(\.protocol) == ["upnp"], "\(before)")
            #expect(try await lab.reachFromOutsideOverPCP(port: 9393) == "still-here\n")

            // The administrator switches UPnP off and leaves PCP on; the router restarts.
            try await lab.reboot(as: .pcpOnly)
            #expect(try await lab.forwards().isEmpty)

            let first = try await lab.portkeeper([firstCommand])
            #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
            #expect(first.stderr.contains("answers UPnP IGD no more"), "\(first.stderr)")
            let after = try decode([Known].self, "gateways", try await lab.portkeeper(["gateways", "--json"]))
            // PCP, or NAT-PMP if a loaded machine kept discovery's probe from hearing PCP in time.
            #expect(after.count == 1 && ["pcp", "natpmp"].contains(after.first?.protocol) && after.first?.controlURL == nil,
                    "one gateway still, now off UPnP: \(after)")

            let reconciled = try await lab.portkeeper(["reconcile"])
            #expect(reconciled.status == 0, "\(reconciled.stdout)\(reconciled.stderr)")
            #expect(try await lab.forwards() == [LabForward(protocol: "TCP", externalPort: 9393, internalClient: Lab.lanClient, internalPort: 9393)])
            #expect(try await lab.reachFromOutsideOverPCP(port: 9393) == "still-here\n")
            #expect(try await lab.portkeeper(["plan", "--exit-code"]).status == 0)

            // Whichever command saw the switch first recorded it, once.
            struct HistoryEntry: Decodable { struct Change: Decodable { var kind: String; var summary: String }; var command: String; var changes: [Change] }
            let history = try decode([HistoryEntry].self, "revisions", try await lab.portkeeper(["history", "--json"]))
            let moves = history.filter { $0.changes.contains { $0.kind == "gateway-moved" && $0.summary.contains("at \(Lab.lanGateway):5351") } }
            #expect(moves.count == 1 && moves.first?.command.contains(firstCommand) == true, "\(history)")
            let list = try await lab.portkeeper(["list"])
            #expect(list.status == 0 && list.stdout.contains("cannot list the router's table"), "\(list.stdout)\(list.stderr)")
        }
    }

    @Test("pcp-only: 12 mappings; reconciles killed after 20–300 ms; the next one leaves exactly one mapping per key")
    func killedMidMap() async throws {
        try await withLab(.pcpOnly) { lab in
            let keys = (0..<12).map { "\(9600 + $0)/\($0 % 2 == 0 ? "tcp" : "udp")" }
            for (index, key) in keys.enumerated() {
                let added = try await lab.portkeeper(["add", key, "--no-apply"] + (index == 0 ? ["--gateway", Self.gateway] : []))
                try #require(added.status == 0, "\(added.stdout)\(added.stderr)")
            }
            let portkeeper = try Products.path("portkeeper")
            var killed = 0
            for _ in 1...4 {
                let background = try lab.startBackground(on: .lan, [portkeeper, "reconcile", "--db", lab.registryPath])
                let started = ContinuousClock.now
                while background.isRunning, ProcessTable.commandLine(background.pid).first != portkeeper, ContinuousClock.now - started < .seconds(30) {
                    try await Task.sleep(for: .milliseconds(2))
                }
                try await Task.sleep(for: .milliseconds(Int.random(in: 20...300)))
                if background.isRunning, ProcessTable.commandLine(background.pid).first == portkeeper, kill(background.pid, SIGKILL) == 0 { killed += 1 }
                let result = background.terminate()
                #expect(result.status == 128 + SIGKILL || result.status == 0, "exit \(result.status)\n\(result.stdout)\n\(result.stderr)")
            }
            let final = try await lab.portkeeper(["reconcile"])
            #expect(final.status == 0, "\(final.stdout)\(final.stderr)")
            let forwards = try await lab.forwards()
            #expect(forwards.count == keys.count, "\(forwards)")
            #expect(Set(forwards.map { "\($0.externalPort)/\($0.protocol.lowercased())" }) == Set(keys))
            #expect(try await SQLiteShell.query(lab.registryPath, "SELECT count(*) FROM operation WHERE outcome = 'pending' OR outcome LIKE 'unknown%'") == "0")
            // Every key kept one nonce: the registry's rows are one per key.
            #expect(try await SQLiteShell.query(lab.registryPath, "SELECT count(DISTINCT nonce) FROM port_control_mapping") == String(keys.count))
            #expect(try await lab.portkeeper(["plan", "--exit-code"]).status == 0)
        }
    }
}

/// The VPN case of issue 9 §3 and §5: NAT-PMP leases of 60 s kept by `watch` for five minutes,
/// the nft chain polled every 0.5 s: the mapping is never missing, and renewals are not history.
/// A suite of its own so that its five minutes run beside the other lab suites.
@Suite("Lab: watch keeps 60-second NAT-PMP leases", labEnabled)
struct LabNATPMPLeaseTests {
    @Test("pcp-only, --protocol natpmp --lease 60: five minutes of watch, polled every 0.5 s, zero gaps, no revision from renewals")
    func sixtySecondLeasesNeverLapse() async throws {
        try await withLab(.pcpOnly) { lab in
            let added = try await lab.portkeeper(["add", "9595/tcp", "--lease", "60", "--protocol", "natpmp", "--gateway", LabPortControlKeeperTests.gateway])
            try #require(added.status == 0, "\(added.stdout)\(added.stderr)")
            let rule = LabForward(protocol: "TCP", externalPort: 9595, internalClient: Lab.lanClient, internalPort: 9595)
            #expect(try await lab.forwards() == [rule])
            let nonce = try await SQLiteShell.query(lab.registryPath, "SELECT via || ' ' || nonce FROM port_control_mapping")
            #expect(nonce.hasPrefix("natpmp "))
            let revisions = try await lab.revisionCount()
            // The periodic check is an hour away: only the lease schedule renews.
            let watch = try lab.startBackground(on: .lan, [try Products.path("portkeeper"), "watch", "--interval", "3600", "--db", lab.registryPath])
            #expect(try await watch.waitForLog("started: watching"))
            var polls = 0
            var gaps: [Int] = []
            let end = ContinuousClock.now + .seconds(300)
            while ContinuousClock.now < end {
                if try await !lab.forwards().contains(rule) { gaps.append(polls) }
                polls += 1
                try await Task.sleep(for: .milliseconds(500))
            }
            let granted = try await SQLiteShell.query(lab.registryPath, "SELECT granted FROM port_control_mapping")
            let log = await watch.stop()
            #expect(log.status == 0, "\(log.stderr)")
            #expect(gaps.isEmpty, "missing at polls \(gaps) of \(polls)\n\(log.stderr.suffix(3000))")
            #expect(polls > 300)
            // Renewed (the grant moved on), and renewals made no revision.
            #expect(!granted.isEmpty && granted > String(Date().addingTimeInterval(-60).formatted(.iso8601).prefix(19)), "last grant \(granted)")
            #expect(try await lab.revisionCount() == revisions, "renewals must not be revisions")
        }
    }
}

extension Lab {
    /// How many revisions history holds.
    fileprivate func revisionCount() async throws -> Int {
        let result = try await portkeeper(["history", "--json", "--limit", "1000"])
        struct Revision: Decodable { var revision: Int }
        return try decode([Revision].self, "revisions", result).count
    }

    /// Opens a TCP connection from outside until it reaches the LAN server; what it said, or nil after ~10 s.
    fileprivate func reachFromOutsideOverPCP(port: UInt16) async throws -> String? {
        for _ in 0..<100 {
            if let reply = try await connectFromOutside(port: port) { return reply }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }
}
