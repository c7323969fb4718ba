import Foundation
import IGDClient
import IGDProtocol
import MappingRegistry
@testable import PortKeeper
import Testing

/// A reconcile tells what it is about to send and each operation as it starts and ends
/// (``ReconcileEvent``), and its report says what became of each (issue 10 §4).
@Suite("Reconcile progress in process")
struct ReconcileProgressTests {
    /// The events a reconcile told, in order, as short words: "planned add 7001, add 7002",
    /// "started 1/2 add 7001", "finished 1/2 add 7001 done".
    final class Told: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        func record(_ event: ReconcileEvent) {
            let line: String
            switch event {
            case let .planned(operations, _):
                line = "planned " + operations.map { "\($0.kind.rawValue) \($0.key.externalPort)" }.joined(separator: ", ")
            case let .started(operation, index, total):
                line = "started \(index)/\(total) \(operation.kind.rawValue) \(operation.key.externalPort)"
            case let .finished(report, index, total):
                line = "finished \(index)/\(total) \(report.operation.kind.rawValue) \(report.operation.key.externalPort) \(report.status.rawValue)"
            }
            lock.withLock { lines.append(line) }
        }
        var all: [String] { lock.withLock { lines } }
    }

    func reconcile(_ bench: InMemoryBench, shouldStop: @escaping @Sendable () -> Bool = { false }) async throws -> (Keeper.ReconcileReport, [String]) {
        let told = Told()
        let report = try await bench.keeper.reconcile(try bench.record(), options: Planner.Options(), shouldStop: shouldStop, progress: told.record)
        return (report, told.all)
    }

    @Test("Each operation is told as it starts and as it ends, in the order sent, after the plan")
    func eventsInOrder() async throws {
        let bench = try InMemoryBench(InMemoryGateway([InMemoryBench.foreign(9000)]))
        defer { bench.remove() }
        try bench.declare(7001)
        try bench.declare(7002, .udp)
        let (report, told) = try await reconcile(bench)
        #expect(told == ["planned add 7001, add 7002",
                         "started 1/2 add 7001", "finished 1/2 add 7001 done",
                         "started 2/2 add 7002", "finished 2/2 add 7002 done"])
        #expect(report.operations.map(\.status) == [.done, .done])
        let first = try #require(report.operations.first)
        #expect(first.operation.before == nil)
        #expect(first.operation.after?.internalClient == "192.168.1.10")
        #expect(first.changes.map(\.kind) == [.added])
        #expect(first.changes.first?.after == first.operation.after)
    }

    @Test("A refused operation is failed with its error, and the next still goes; a timeout leaves the rest not attempted")
    func failedAndNotAttempted() async throws {
        let refused = try InMemoryBench(InMemoryGateway([InMemoryBench.foreign(7001)]))
        defer { refused.remove() }
        try refused.declare(7001, client: .address(IPv4Address(192, 168, 1, 60)))
        try refused.declare(7002)
        // 7001 is held by another client: a conflict, planned as nothing; force it and make the add fail.
        refused.gateway.inject(.upnp(UPnPError.conflictInMappingEntry), on: .add, port: 7002)
        let (report, told) = try await reconcile(refused)
        #expect(told.last == "finished 1/1 add 7002 failed")
        #expect(report.operations.first?.error?.kind == .conflict)
        #expect(!report.inSync && report.remaining.conflicts.count == 1)

        let hung = try InMemoryBench()
        defer { hung.remove() }
        for port: UInt16 in [7001, 7002, 7003] { try hung.declare(port) }
        hung.gateway.inject(.timeout(applied: false), on: .add, port: 7001)
        let (stopped, events) = try await reconcile(hung)
        #expect(stopped.operations.map(\.status) == [.failed, .notAttempted, .notAttempted])
        #expect(events.filter { $0.hasPrefix("finished") } == ["finished 1/3 add 7001 failed", "finished 2/3 add 7002 not-attempted",
                                                               "finished 3/3 add 7003 not-attempted"])
        #expect(hung.gateway.count(.add) == 1)
    }

    @Test("A stop asked for between operations: the rest are reported not attempted and never told as started")
    func stopBetweenOperations() async throws {
        let bench = try InMemoryBench()
        defer { bench.remove() }
        try bench.declare(7001)
        try bench.declare(7002)
        let told = Told()
        let report = try await bench.keeper.reconcile(try bench.record(), options: Planner.Options(),
                                                      shouldStop: { told.all.contains { $0.hasPrefix("finished 1/2") } }, progress: told.record)
        #expect(report.stopped)
        #expect(report.operations.map(\.status) == [.done, .notAttempted])
        #expect(told.all == ["planned add 7001, add 7002", "started 1/2 add 7001", "finished 1/2 add 7001 done"])
    }

    @Test("A dry run plans the same operations a reconcile then sends")
    func dryRunPlansWhatIsSent() async throws {
        let bench = try InMemoryBench(InMemoryGateway([InMemoryBench.foreign(9000)]))
        defer { bench.remove() }
        try bench.declare(7001)
        _ = try await bench.reconcile()
        try bench.declare(7002)
        _ = try bench.keeper.undeclare(MappingKey(protocol: .tcp, externalPort: 7001), gatewayID: bench.gatewayID)
        let plan = try await bench.keeper.plan(try bench.record(), options: Planner.Options())
        let planned = Keeper.operations(of: plan.plan, table: plan.actual)
        #expect(planned.map(\.kind) == [.delete, .add])
        #expect(planned.first?.before?.externalPort == 7001 && planned.first?.after == nil)
        let report = try await bench.reconcile()
        #expect(report.operations.map(\.operation) == planned)
    }
}
