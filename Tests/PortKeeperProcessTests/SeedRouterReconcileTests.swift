import Foundation
import IGDTestSupport
import Testing

/// The reconcile cycle against the fake NTT ADSL Modem-SV3 of the seed blog: WANPPPConnection,
/// `/UD/?6`, HTTP 500 at the end of the walk, and its own port-80 entry, which survives
/// everything but `--prune`.
@Suite("Reconcile against the fake seed router")
struct SeedRouterReconcileTests {
    /// A registry of this test's own.
    let registry: ScratchRegistry
    var registryPath: String { registry.path }

    init() throws {
        registry = try ScratchRegistry("seed")
    }

    func portkeeper(_ arguments: [String]) async throws -> ProcessResult {
        try await PortKeeperCLI.run(arguments + ["--db", registryPath])
    }

    typealias Revision = ScratchRegistry.Revision
    struct History: Decodable { var revisions: [Revision] }

    @Test func port80SurvivesEverythingButPrune() async throws {
        let gateway = try await SimulatedGateway.start(profile: try .seedRouter(externalIP: "60.32.1.5"), ssdp: false)
        let port80 = try #require(gateway.mappings.first)
        do {
            let add = try await portkeeper(["add", "9090/tcp", "--description", "Test", "--gateway", gateway.descriptionURL])
            #expect(add.status == 0, "\(add.stderr)")
            #expect(gateway.mappings.contains { $0.externalPort == 9090 && $0.internalClient == "127.0.0.1" && $0.description == "Test" })
            #expect(gateway.mappings.contains(port80))
            // An IGDv1 router: the table is walked, never asked for in one go.
            #expect(gateway.actionCount("GetListOfPortMappings") == 0)

            // A reboot of the router: its own entry comes back, ours does not.
            gateway.setMappings([port80])
            let plan = try await portkeeper(["plan", "--exit-code"])
            #expect(plan.status == 2)
            #expect(plan.stdout.contains("+ add      9090/tcp"))
            #expect(plan.stdout.contains("= foreign  80/tcp"))
            #expect(try await portkeeper(["reconcile"]).status == 0)
            #expect(gateway.mappings.count == 2)
            #expect(gateway.mappings.contains(port80))

            // Only --prune removes the router's entry. A rollback tries to re-create it, but this
            // router refuses an entry without an internal client (402): said, and not a success.
            let pruned = try await portkeeper(["reconcile", "--prune"])
            #expect(pruned.status == 0, "\(pruned.stderr)")
            #expect(!gateway.mappings.contains { $0.externalPort == 80 })
            let history = try JSONDecoder().decode(History.self, from: Data(try await portkeeper(["history", "--json"]).stdout.utf8)).revisions
            let pruneRevision = try #require(history.first { $0.command.contains("--prune") })
            #expect(pruneRevision.changes.contains { $0.kind == "deleted" && $0.key?.description == "80/tcp" })
            let rollback = try await portkeeper(["rollback", String(pruneRevision.revision - 1)])
            // Done, and not as asked: exit 3 (README, "Exit codes").
            #expect(rollback.status == 3)
            #expect(rollback.stdout.contains("not restored  80/tcp"))
            #expect(rollback.stdout.contains("the gateway answered 402 InvalidArgs"), "\(rollback.stdout)")
            #expect(!rollback.stdout.contains("upnp:"), "\(rollback.stdout)")
            // One line on stderr for the one entry not re-created.
            let lines = rollback.stderr.split(separator: "\n").filter { !$0.isEmpty }
            #expect(lines.count == 1, "\(rollback.stderr)")
            #expect(lines.first?.contains("80/tcp of another program was not re-created") == true, "\(rollback.stderr)")
            #expect(gateway.mappings.contains { $0.externalPort == 9090 })

            // The declared mapping is untouched by all this.
            let again = try await portkeeper(["plan", "--exit-code"])
            #expect(again.status == 0, "\(again.stdout)")
        } catch {
            await gateway.shutdown()
            throw error
        }
        await gateway.shutdown()
        registry.remove()
    }
}
