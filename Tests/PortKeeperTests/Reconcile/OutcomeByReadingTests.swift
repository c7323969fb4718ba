import IGDProtocol
import MappingRegistry
@testable import PortKeeper
import Testing

/// An operation whose answer never came is resolved by reading the gateway's table, never by
/// sending it again (``Reconciliation/outcomeByReading``).
@Suite("Outcome by reading")
struct OutcomeByReadingTests {
    /// An add of 7001/tcp for this host, as a reconcile journaled it, and the entry it sent.
    static func journaledAdd() async throws -> (JournaledOperation, PortMappingEntry) {
        let bench = try InMemoryBench()
        defer { bench.remove() }
        try bench.declare(7001)
        let report = try await bench.reconcile()
        let operation = try #require(try bench.operations(report).first)
        try #require(operation.action == .add)
        return (operation, try #require(operation.entry))
    }

    @Test("An add is done when the table holds the key for the same client, whatever the rest says")
    func addFound() async throws {
        let (add, sent) = try await Self.journaledAdd()
        #expect(Reconciliation.outcomeByReading(add, table: [sent]) == .ok)
        var renamed = sent
        renamed.description = "renamed by the router"
        renamed.internalPort = sent.internalPort + 1
        #expect(Reconciliation.outcomeByReading(add, table: [InMemoryBench.foreign(9000), renamed]) == .ok)
    }

    @Test("An add is failed when the key is not on the gateway, or held by another client")
    func addNotFound() async throws {
        let (add, sent) = try await Self.journaledAdd()
        #expect(Reconciliation.outcomeByReading(add, table: []) == .failed("not on the gateway when read"))
        #expect(Reconciliation.outcomeByReading(add, table: [InMemoryBench.foreign(9000)]) == .failed("not on the gateway when read"))
        var other = sent
        other.internalClient = "192.168.1.99"
        #expect(Reconciliation.outcomeByReading(add, table: [other]) == .failed("not on the gateway when read"))
        var otherProtocol = sent
        otherProtocol.protocol = .udp
        #expect(Reconciliation.outcomeByReading(add, table: [otherProtocol]) == .failed("not on the gateway when read"))
    }

    @Test("A delete is done when the key is gone, failed while anything holds it")
    func delete() async throws {
        var (delete, sent) = try await Self.journaledAdd()
        delete.action = .delete
        #expect(Reconciliation.outcomeByReading(delete, table: []) == .ok)
        #expect(Reconciliation.outcomeByReading(delete, table: [InMemoryBench.foreign(9000)]) == .ok)
        #expect(Reconciliation.outcomeByReading(delete, table: [sent]) == .failed("still on the gateway when read"))
        var other = sent
        other.internalClient = "192.168.1.99"
        #expect(Reconciliation.outcomeByReading(delete, table: [other]) == .failed("still on the gateway when read"))
    }
}
