import IGDProtocol
import MappingRegistry
@testable import PortKeeper
import Testing

/// What changed on the gateway since the last reconcile that portkeeper did not do, told from
/// the last observation the registry keeps and the table read now (``Keeper/foundChanges``).
@Suite("Found changes")
struct FoundChangesTests {
    /// A bench with 7001/tcp and 7002/tcp declared for this host and reconciled: the registry
    /// owns them and keeps the table as it was read back.
    static func reconciled() async throws -> (InMemoryBench, observed: [PortMappingEntry]) {
        let bench = try InMemoryBench()
        try bench.declare(7001)
        try bench.declare(7002)
        #expect(try await bench.reconcile().succeeded)
        let observed = try #require(try bench.registry.lastObservation(gatewayID: bench.gatewayID))
        try #require(observed.map(\.externalPort) == [7001, 7002])
        return (bench, observed)
    }

    static func found(_ bench: InMemoryBench, actual: [PortMappingEntry], host: IPv4Address = InMemoryGateway.host) throws -> [Change] {
        try bench.keeper.foundChanges(gateway: try bench.record(), actual: actual, owned: try bench.registry.ownedKeys(gatewayID: bench.gatewayID),
                                      declared: try bench.registry.declarations(gatewayID: bench.gatewayID), host: host)
    }

    @Test("Without a reconcile before, there is nothing to compare with: nothing found")
    func noObservation() throws {
        let bench = try InMemoryBench()
        defer { bench.remove() }
        try bench.declare(7001)
        #expect(try Self.found(bench, actual: []).isEmpty)
    }

    @Test("The table as it was left: nothing found")
    func unchanged() async throws {
        let (bench, observed) = try await Self.reconciled()
        defer { bench.remove() }
        #expect(try Self.found(bench, actual: observed).isEmpty)
        // Another program's entry appearing is not a change of portkeeper's.
        #expect(try Self.found(bench, actual: observed + [InMemoryBench.foreign(9000)]).isEmpty)
    }

    @Test("One of its entries gone: found missing, and no reboot is suspected")
    func oneMissing() async throws {
        let (bench, observed) = try await Self.reconciled()
        defer { bench.remove() }
        let found = try Self.found(bench, actual: [observed[0]])
        #expect(found == [Change(.foundMissing, MappingKey(protocol: .tcp, externalPort: 7002),
                                 "\(observed[1].internalClient):7002 'm7002' is gone from the gateway", before: MappingState(observed[1]))])
    }

    @Test("All of its entries gone: each found missing, after one line saying the gateway probably rebooted")
    func allMissing() async throws {
        let (bench, _) = try await Self.reconciled()
        defer { bench.remove() }
        let found = try Self.found(bench, actual: [InMemoryBench.foreign(9000)])
        #expect(found.first == Change(.foundMissing, nil, "all 2 of portkeeper's mappings are gone: the gateway probably rebooted"))
        #expect(found.dropFirst().map(\.kind) == [.foundMissing, .foundMissing])
        #expect(found.dropFirst().compactMap(\.key).map(\.externalPort) == [7001, 7002])
    }

    @Test("One of its entries pointing elsewhere: found changed, saying both targets")
    func changedTarget() async throws {
        let (bench, observed) = try await Self.reconciled()
        defer { bench.remove() }
        var moved = observed[0]
        moved.internalClient = "192.168.1.99"
        moved.internalPort = 8001
        let found = try Self.found(bench, actual: [moved, observed[1]])
        #expect(found == [Change(.foundChanged, MappingKey(protocol: .tcp, externalPort: 7001),
                                 "now → 192.168.1.99:8001 (was \(observed[0].internalClient):7001)",
                                 before: MappingState(observed[0]), after: MappingState(moved))])
    }

    @Test("This host's address changed: said once, and another program's entry still at the old address is named")
    func hostAddressChanged() async throws {
        let (bench, observed) = try await Self.reconciled()
        defer { bench.remove() }
        let old = observed[0].internalClient
        let stale = InMemoryBench.foreign(9000, client: old)
        let found = try Self.found(bench, actual: observed + [stale], host: IPv4Address(192, 168, 1, 20))
        #expect(found.first == Change(.hostAddressChanged, nil,
                                      "this host's address changed from \(old) to 192.168.1.20: mappings declared for this host move with it"))
        #expect(found.dropFirst().map(\.kind) == [.foundChanged])
        #expect(found.dropFirst().first?.key == MappingKey(stale))
        #expect(found.dropFirst().first?.detail.contains("still points at this host's old address \(old)") == true)
    }
}
