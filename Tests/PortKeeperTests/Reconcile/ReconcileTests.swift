import Foundation
import IGDClient
import IGDProtocol
import MappingRegistry
@testable import PortKeeper
import Testing

/// Reconcile, rollback, conflicts, unknown outcomes, the lease retry and the stop after a
/// timeout, in process against an in-memory gateway (``InMemoryGateway``): no sockets, no
/// root. The lab tests (LabReconcileTests) prove the same against a real miniupnpd.
@Suite("Reconcile in process")
struct ReconcileTests {
    // MARK: Plan → act → read back → record

    @Test("A reconcile adds each declared mapping for this host, journals it as done, and reads back in sync")
    func addsWhatIsDeclared() async throws {
        let bench = try InMemoryBench()
        defer { bench.remove() }
        try bench.declare(7001)
        try bench.declare(7002, .udp)
        let report = try await bench.reconcile()
        #expect(report.succeeded && report.failures.isEmpty)
        #expect(bench.gateway.requests == ["list", "add 7001", "add 7002", "list"])
        #expect(bench.gateway.mappings.map(\.internalClient) == ["192.168.1.10", "192.168.1.10"])
        #expect(report.changes.map(\.kind) == [.added, .added])
        #expect(try bench.operations(report).map(\.outcome) == [.ok, .ok])
        #expect(try bench.owned() == [7001, 7002])
        #expect(try bench.registry.history(limit: 1).first?.summary == "added 2")
    }

    @Test("A reconcile with nothing to do sends nothing, opens no revision and reads the gateway once")
    func inSyncWritesNothing() async throws {
        let bench = try InMemoryBench()
        defer { bench.remove() }
        try bench.declare(7001)
        _ = try await bench.reconcile()
        let revisions = try bench.registry.history(limit: 100).count
        let report = try await bench.reconcile()
        #expect(report.inSync && report.revision == nil && report.changes.isEmpty)
        #expect(bench.gateway.requests.suffix(1) == ["list"])
        #expect(bench.gateway.count(.add) == 1)
        #expect(try bench.registry.history(limit: 100).count == revisions)
    }

    @Test("A mapping no longer declared is deleted; another program's is left alone, and deleted only with --prune")
    func deletesOnlyWhatIsPortkeepers() async throws {
        let bench = try InMemoryBench(InMemoryGateway([InMemoryBench.foreign(9000)]))
        defer { bench.remove() }
        let key = MappingKey(protocol: .tcp, externalPort: 7001)
        _ = try await bench.reconcile(revision: try bench.declare(7001))
        let removed = try await bench.reconcile(revision: try bench.keeper.undeclare(key, gatewayID: bench.gatewayID))
        #expect(removed.succeeded)
        #expect(removed.plan.foreign.map(\.externalPort) == [9000])
        #expect(bench.gateway.mappings.map(\.externalPort) == [9000])
        #expect(try bench.owned() == [])

        let pruned = try await bench.reconcile(Planner.Options(prune: true))
        #expect(pruned.succeeded && bench.gateway.mappings.isEmpty)
        let operation = try #require(try bench.operations(pruned).first)
        #expect(operation.deleteReason == .pruned && operation.before == InMemoryBench.foreign(9000) && operation.outcome == .ok)
    }

    @Test("Mappings lost since the last reconcile are found missing, all of them a reboot, and one reconcile restores them")
    func foundChangesAfterAReboot() async throws {
        let bench = try InMemoryBench()
        defer { bench.remove() }
        try bench.declare(7001)
        try bench.declare(7002)
        _ = try await bench.reconcile()
        bench.gateway.set([])

        let plan = try await bench.keeper.plan(try bench.record(), options: Planner.Options())
        #expect(plan.found.first == Change(.foundMissing, nil, "all 2 of portkeeper's mappings are gone: the gateway probably rebooted"))
        #expect(plan.found.compactMap(\.key).map(\.externalPort) == [7001, 7002])
        #expect(plan.plan.adds.count == 2)
        #expect(bench.gateway.count(.add) == 2, "plan sends nothing")

        let report = try await bench.reconcile()
        #expect(report.succeeded)
        #expect(bench.gateway.mappings.map(\.externalPort) == [7001, 7002])
        #expect(try bench.registry.history(limit: 1).first?.summary == "found-missing 2, added 2")
    }

    // MARK: Conflicts

    @Test("A declared port held by another client is a conflict: nothing is sent without --force, and --force replaces the holder, journaled")
    func conflictNeedsForce() async throws {
        let holder = InMemoryBench.foreign(7001)
        let bench = try InMemoryBench(InMemoryGateway([holder]))
        defer { bench.remove() }
        try bench.declare(7001)
        let blocked = try await bench.reconcile()
        #expect(!blocked.succeeded && blocked.plan.conflicts.map(\.holder) == [holder])
        #expect(bench.gateway.requests == ["list"])

        let forced = try await bench.reconcile(Planner.Options(force: true))
        #expect(forced.succeeded)
        #expect(bench.gateway.requests.dropFirst() == ["list", "delete 7001", "add 7001", "list"])
        #expect(bench.gateway.mappings.map(\.internalClient) == ["192.168.1.10"])
        let operations = try bench.operations(forced)
        #expect(operations.map(\.deleteReason) == [.replaced, nil])
        #expect(operations.first?.before == holder, "the holder is journaled, so a rollback can restore it")
        #expect(try bench.owned() == [7001])
    }

    @Test("718 to an add is one failure naming the fault and what to try; the other operations are still sent")
    func conflictAnsweredWhileActing() async throws {
        let bench = try InMemoryBench()
        defer { bench.remove() }
        for port: UInt16 in [7001, 7002, 7003] { try bench.declare(port) }
        bench.gateway.inject(.upnp(UPnPError.conflictInMappingEntry), on: .add, port: 7002)
        let report = try await bench.reconcile()
        #expect(!report.inSync && report.unreachable == nil)
        #expect(bench.gateway.mappings.map(\.externalPort) == [7001, 7003])
        let failure = try #require(report.failures.first)
        #expect(report.failures.count == 1 && failure.key.externalPort == 7002)
        #expect(failure.error.message == "AddPortMapping 7002/tcp on Memory Router failed: the gateway answered 718 ConflictInMappingEntry")
        // What to try (--force) is the CLI's to say (PortKeeperCLITests); the error says which fault.
        #expect(failure.error.kind == .conflict && failure.error.context == .fault(718))
        #expect(try bench.operations(report).map(\.outcome) == [.ok, .upnp(718), .ok])
        #expect(report.remaining.adds.map(\.declared.key.externalPort) == [7002])
    }

    // MARK: Leases

    @Test("725 to a lease: the add is retried once with lease 0, and the gateway is remembered as taking permanent leases only")
    func leaseRetry() async throws {
        let bench = try InMemoryBench(InMemoryGateway(permanentLeasesOnly: true))
        defer { bench.remove() }
        try bench.declare(7001, lease: 3600)
        let report = try await bench.reconcile()
        #expect(report.succeeded && report.failures.isEmpty)
        #expect(bench.gateway.requests == ["list", "add 7001", "add 7001", "list"])
        #expect(bench.gateway.mappings.map(\.leaseDuration) == [0])
        let operations = try bench.operations(report)
        #expect(operations.map(\.outcome) == [.upnp(725), .ok])
        #expect(operations.map { $0.entry?.leaseDuration } == [3600, 0])
        #expect(report.changes.contains { $0.kind == .updated && $0.detail.contains("725 OnlyPermanentLeasesSupported") })
        #expect(try bench.record().permanentLeasesOnly)

        // Learned: the next mapping is asked for with lease 0 at once.
        try bench.declare(7002, lease: 3600)
        #expect(try await bench.reconcile().succeeded)
        #expect(bench.gateway.count(.add) == 3)
    }

    // MARK: Unknown outcomes and a gateway that stops answering

    @Test("An add the gateway made but whose answer broke off is resolved as done by reading back, and not sent again")
    func answerLostAfterTheWrite() async throws {
        let bench = try InMemoryBench()
        defer { bench.remove() }
        try bench.declare(7001)
        try bench.declare(7002)
        bench.gateway.inject(.brokenAnswer(applied: true), on: .add, port: 7001)
        let report = try await bench.reconcile()
        #expect(report.inSync && report.unreachable == nil)
        #expect(bench.gateway.requests == ["list", "add 7001", "add 7002", "list"])
        #expect(try bench.operations(report).map(\.outcome) == [.ok, .ok])
        #expect(try bench.registry.unresolvedOperations(gatewayID: bench.gatewayID).isEmpty)
        #expect(try bench.owned() == [7001, 7002])
    }

    @Test("An add the gateway did not make whose answer broke off is resolved as failed by reading, and the next reconcile makes it")
    func answerLostWithoutTheWrite() async throws {
        let bench = try InMemoryBench()
        defer { bench.remove() }
        try bench.declare(7001)
        bench.gateway.inject(.brokenAnswer(applied: false), on: .add)
        let report = try await bench.reconcile()
        #expect(!report.inSync)
        #expect(try bench.operations(report).map(\.outcome) == [.failed("not on the gateway when read")])
        #expect(try await bench.reconcile().succeeded)
        #expect(bench.gateway.mappings.map(\.externalPort) == [7001])
    }

    @Test("A timeout stops the sending: the rest are journaled as not sent, nothing is read back, and the next reconcile finishes the work")
    func timeoutStopsTheSending() async throws {
        let bench = try InMemoryBench()
        defer { bench.remove() }
        for port: UInt16 in [7001, 7002, 7003] { try bench.declare(port) }
        bench.gateway.inject(.timeout(applied: false), on: .add)
        let report = try await bench.reconcile()
        #expect(bench.gateway.requests == ["list", "add 7001"])
        #expect(!report.succeeded && report.notSent.map(\.externalPort) == [7002, 7003])
        let unreachable = try #require(report.unreachable)
        #expect(unreachable.message.hasPrefix("reconciling Memory Router failed: "), "\(unreachable)")
        #expect(unreachable.message.hasSuffix("; 2 operations were not sent"), "\(unreachable)")
        let operations = try bench.operations(report)
        #expect(operations.map(\.outcome).first.map { if case .unknown = $0 { true } else { false } } == true)
        #expect(operations.dropFirst().map(\.outcome) == [.failed(Keeper.notSentReason), .failed(Keeper.notSentReason)])
        #expect(try bench.registry.history(limit: 1).first?.summary == "failed 3 (not in sync)")

        let again = try await bench.reconcile()
        #expect(again.succeeded)
        #expect(again.changes.first { $0.kind == .foundChanged }?.detail.contains("resolved as failed:not on the gateway when read") == true)
        #expect(bench.gateway.mappings.map(\.externalPort) == [7001, 7002, 7003])
        #expect(try bench.registry.unresolvedOperations(gatewayID: bench.gatewayID).isEmpty)
    }

    @Test("A timeout after the gateway acted: the next reconcile finds the mapping by reading, records it, and never sends it twice")
    func timeoutAfterTheWrite() async throws {
        let bench = try InMemoryBench()
        defer { bench.remove() }
        try bench.declare(7001)
        try bench.declare(7002)
        bench.gateway.inject(.timeout(applied: true), on: .add, port: 7001)
        #expect(try await bench.reconcile().unreachable != nil)
        #expect(try bench.owned() == [])

        let again = try await bench.reconcile()
        #expect(again.succeeded)
        #expect(again.changes.contains { $0.kind == .foundChanged && $0.key?.externalPort == 7001 && $0.detail.contains("resolved as ok") })
        #expect(bench.gateway.requests.filter { $0 == "add 7001" }.count == 1)
        #expect(try bench.owned() == [7001, 7002])
    }

    @Test("A stop request between steps skips the rest, reads back and completes the revision with what was done")
    func stopBetweenSteps() async throws {
        let bench = try InMemoryBench()
        defer { bench.remove() }
        for port: UInt16 in [7001, 7002, 7003] { try bench.declare(port) }
        let gateway = bench.gateway
        let report = try await bench.reconcile(shouldStop: { gateway.count(.add) >= 1 })
        #expect(report.stopped && !report.inSync)
        #expect(gateway.requests == ["list", "add 7001", "list"])
        #expect(try bench.operations(report).count == 1)
        #expect(try bench.registry.history(limit: 1).first?.summary == "added 1 (not in sync)")
    }

    // MARK: Rollback

    @Test("Rollback restores the declaration of a revision and re-creates another program's entry --prune deleted since, still not portkeeper's")
    func rollbackRestoresWhatPruneDeleted() async throws {
        let other = InMemoryBench.foreign(9000)
        let bench = try InMemoryBench(InMemoryGateway([other]))
        defer { bench.remove() }
        let declared = try #require(try bench.declare(7001))
        _ = try await bench.reconcile(revision: declared)
        _ = try await bench.reconcile(Planner.Options(prune: true))
        _ = try await bench.reconcile(revision: try bench.keeper.undeclare(MappingKey(protocol: .tcp, externalPort: 7001), gatewayID: bench.gatewayID))
        #expect(bench.gateway.mappings.isEmpty)

        let (revision, report) = try await bench.keeper.rollback(to: declared, apply: true)
        let applied = try #require(report)
        #expect(applied.succeeded && applied.unrestored.isEmpty)
        #expect(applied.revision == revision)
        #expect(bench.gateway.mappings == [PortMappingEntry(externalPort: 7001, protocol: .tcp, internalPort: 7001, internalClient: "192.168.1.10", description: "m7001"), other])
        #expect(try bench.owned() == [7001])
        #expect(try bench.registry.declarations(gatewayID: bench.gatewayID).map(\.key.externalPort) == [7001])
    }

    @Test("Rollback without applying changes the declaration and sends nothing")
    func rollbackWithoutApplying() async throws {
        let bench = try InMemoryBench()
        defer { bench.remove() }
        let first = try #require(try bench.declare(7001))
        try bench.declare(7002)
        let (_, report) = try await bench.keeper.rollback(to: first, apply: false)
        #expect(report == nil)
        #expect(bench.gateway.requests.isEmpty)
        #expect(try bench.registry.declarations(gatewayID: bench.gatewayID).map(\.key.externalPort) == [7001])
    }

    // MARK: A gateway that cannot list

    @Test("A gateway that cannot list: what portkeeper made is known from the registry, so nothing is made twice and an undeclared one is deleted")
    func gatewayThatCannotList() async throws {
        let bench = try InMemoryBench(InMemoryGateway(canList: false))
        defer { bench.remove() }
        try bench.declare(7001)
        try bench.declare(7002)
        #expect(try await bench.reconcile().succeeded)
        #expect(try await bench.reconcile().revision == nil, "in sync by the registry's knowledge")
        #expect(bench.gateway.requests == ["add 7001", "add 7002"])

        let removed = try await bench.reconcile(revision: try bench.keeper.undeclare(MappingKey(protocol: .tcp, externalPort: 7001), gatewayID: bench.gatewayID))
        #expect(removed.succeeded)
        #expect(bench.gateway.requests.last == "delete 7001")
        #expect(bench.gateway.mappings.map(\.externalPort) == [7002])
        #expect(try bench.owned() == [7002])
    }
}
