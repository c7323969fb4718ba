import Foundation
import IGDTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// §6 against the real miniupnpd: `portkeeper reconcile` killed with SIGKILL at random moments,
/// five times over; the registry stays sound, and a final reconcile leaves exactly the declared
/// mappings on the gateway with nothing unresolved.
@Suite("Lab: kill -9 during reconcile", .serialized, labEnabled)
struct LabCrashTests {
    /// 20 keys, TCP and UDP.
    static let keys: [String] = (0..<20).map { "\(9500 + $0)/\($0 % 3 == 1 ? "udp" : "tcp")" }

    struct Revision: Decodable {
        var revision: Int
    }

    @Test("20 mappings; five reconciles killed after 20–300 ms; then one completes with exactly the 20", arguments: LabGatewayTests.profiles)
    func killedAtRandomMoments(profile: LabProfile) async throws {
        try await withLab(profile) { lab in
            let portkeeper = try Products.path("portkeeper")
            for (index, key) in Self.keys.enumerated() {
                let gatewayArguments = index == 0 ? ["--gateway", Lab.descriptionURL] : []
                let added = try await lab.portkeeper(["add", key, "--description", "crash \(index)", "--no-apply"] + gatewayArguments)
                try #require(added.status == 0, "\(added.stderr)")
            }
            #expect(try await lab.upnpcList().isEmpty)

            var killedRounds = 0
            for round in 1...5 {
                let background = try lab.startBackground(on: .lan, [portkeeper, "reconcile", "--db", lab.registryPath])
                // lab.sh exec → exec ip netns exec → exec portkeeper: one pid, portkeeper's once it
                // has been exec'd. The delay counts from then.
                try await waitUntil("portkeeper started in the lab (round \(round))", timeout: .seconds(30)) {
                    !background.isRunning || ProcessTable.commandLine(background.pid).first == portkeeper
                }
                let delay = Int.random(in: 20...300)
                try await Task.sleep(for: .milliseconds(delay))
                var killed = false
                if background.isRunning, ProcessTable.commandLine(background.pid).first == portkeeper {
                    killed = kill(background.pid, SIGKILL) == 0
                }
                let result = background.terminate()
                if killed && result.status == 128 + SIGKILL { killedRounds += 1 }
                // Killed, or done before the kill came; never failed on its own.
                #expect(result.status == 128 + SIGKILL || result.status == 0, "round \(round) after \(delay) ms: exit \(result.status)\n\(result.stdout)\n\(result.stderr)")
                #expect(ProcessTable.pids(executable: portkeeper, arguments: [lab.registryPath]).isEmpty, "portkeeper still runs after round \(round)")
                #expect(try await SQLiteShell.query(lab.registryPath, "PRAGMA integrity_check") == "ok", "round \(round) after \(delay) ms")
            }
            #expect(killedRounds > 0, "no reconcile was killed while running")

            let final = try await lab.portkeeper(["reconcile"])
            #expect(final.status == 0, "exit \(final.status)\n\(final.stdout)\n\(final.stderr)\n\(lab.gatewayLog.suffix(2000))")
            let table = try await lab.upnpcList()
            #expect(table.count == Self.keys.count, "\(table)")
            #expect(Set(table.map { "\($0.externalPort)/\($0.proto.lowercased())" }) == Set(Self.keys))
            #expect(table.allSatisfy { $0.internalClient == Lab.lanClient })
            #expect(try await SQLiteShell.query(lab.registryPath, "SELECT count(*) FROM operation WHERE outcome = 'pending' OR outcome LIKE 'unknown%'") == "0")
            #expect(try await SQLiteShell.query(lab.registryPath, "PRAGMA integrity_check") == "ok")

            let revisions = try decode([Revision].self, "revisions", try await lab.portkeeper(["history", "--json", "--limit", "1000"])).count
            let again = try await lab.portkeeper(["reconcile"])
            #expect(again.status == 0, "\(again.stderr)")
            #expect(try decode([Revision].self, "revisions", try await lab.portkeeper(["history", "--json", "--limit", "1000"])).count == revisions,
                    "a reconcile with nothing to do made a revision")
            #expect(try await lab.portkeeper(["plan", "--exit-code"]).status == 0)
            #expect(try await lab.upnpcList().count == Self.keys.count)
        }
    }
}

/// Polls `condition` every few milliseconds until it holds; throws after `timeout`.
private func waitUntil(_ what: String, timeout: Duration, _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        guard ContinuousClock.now < deadline else { throw LabError.timedOut(what) }
        try await Task.sleep(for: .milliseconds(2))
    }
}
