import IGDClient
import IGDProtocol
import IGDTestSupport
import MappingRegistry
@testable import PortKeeper
import Testing

/// The cheapest look that tells `watch` whether the gateway still matches
/// (``Keeper/quickCheck(_:)``), in-process against the simulated gateways on loopback.
@Suite("Quick check")
struct QuickCheckTests {
    /// Generous limits: a busy machine must not turn a slow answer into a failure.
    static let client = GatewayClient(limits: HTTPLimits(connectTimeout: .seconds(10), readTimeout: .seconds(20), deadline: .seconds(20)))

    /// A gateway with `profile`, a registry of its own that knows it, 7001/tcp and 7002/udp
    /// declared for this host (with `lease`) and reconciled; `body` gets the gateway's record as
    /// the registry knows it after the reconcile.
    static func reconciled(_ profile: SimulatedGateway.Profile, lease: UInt32 = 0,
                           _ body: (Keeper, GatewayRecord, SimulatedGateway, ScratchRegistry) async throws -> Void) async throws {
        let gateway = try await SimulatedGateway.start(profile: profile, ssdp: false)
        let (registry, scratch) = try temporaryRegistry("quick")
        defer { scratch.remove() }
        do {
            let keeper = Keeper(registry: registry, client: client, discovery: GatewayBehaviourTests.loopbackDiscovery(port: 9), command: "test")
            let record = try await keeper.gateway(gateway.descriptionURL)
            for (port, proto) in [(UInt16(7001), TransportProtocol.tcp), (7002, .udp)] {
                _ = try keeper.declare(DeclaredMapping(key: MappingKey(protocol: proto, externalPort: port), client: .thisHost, internalPort: port,
                                                       description: "q\(port)", leaseDuration: lease), gatewayID: record.id)
            }
            try #require(try await keeper.reconcile(record, options: Planner.Options()).inSync)
            try #require(gateway.mappings.filter { [7001, 7002].contains($0.externalPort) }.count == 2)
            try await body(keeper, try #require(try registry.gateway(id: record.id)), gateway, scratch)
        } catch {
            await gateway.shutdown()
            throw error
        }
        await gateway.shutdown()
    }

    @Test("IGDv2: in sync after a reconcile, told by one listing per declared protocol; nothing sent, nothing written")
    func inSyncByListing() async throws {
        try await Self.reconciled(.igdv2()) { keeper, record, gateway, scratch in
            let before = (list: gateway.actionCount("GetListOfPortMappings"), specific: gateway.actionCount("GetSpecificPortMappingEntry"),
                          adds: gateway.actionCount("AddPortMapping"), deletes: gateway.actionCount("DeletePortMapping"))
            let files = scratch.files()
            let check = try await keeper.quickCheck(record)
            #expect(check.inSync)
            #expect(check.nextRenewal == nil, "permanent mappings are never renewed")
            #expect(gateway.actionCount("GetListOfPortMappings") == before.list + 2)
            #expect(gateway.actionCount("GetSpecificPortMappingEntry") == before.specific)
            #expect(gateway.actionCount("AddPortMapping") == before.adds && gateway.actionCount("DeletePortMapping") == before.deletes)
            #expect(scratch.files() == files, "the quick check wrote to the registry")
        }
    }

    @Test("IGDv1: in sync after a reconcile, told by one GetSpecificPortMappingEntry per declared mapping; nothing sent, nothing written")
    func inSyncEntryByEntry() async throws {
        try await Self.reconciled(try .seedRouter()) { keeper, record, gateway, scratch in
            let specific = gateway.actionCount("GetSpecificPortMappingEntry")
            let adds = gateway.actionCount("AddPortMapping")
            let files = scratch.files()
            let check = try await keeper.quickCheck(record)
            #expect(check.inSync)
            #expect(gateway.actionCount("GetSpecificPortMappingEntry") == specific + 2)
            #expect(gateway.actionCount("GetListOfPortMappings") == 0)
            #expect(gateway.actionCount("AddPortMapping") == adds)
            #expect(scratch.files() == files, "the quick check wrote to the registry")
        }
    }

    @Test("A declared mapping gone from the gateway: not in sync", arguments: [false, true])
    func mappingGone(igdv1: Bool) async throws {
        try await Self.reconciled(igdv1 ? try .seedRouter() : .igdv2()) { keeper, record, gateway, _ in
            gateway.setMappings(gateway.mappings.filter { $0.externalPort != 7001 })
            let check = try await keeper.quickCheck(record)
            #expect(!check.inSync)
        }
    }

    @Test("A declared mapping pointing elsewhere: not in sync")
    func mappingChanged() async throws {
        try await Self.reconciled(.igdv2()) { keeper, record, gateway, _ in
            gateway.setMappings(gateway.mappings.map { mapping in
                var mapping = mapping
                if mapping.externalPort == 7001 { mapping.internalPort = 8001 }
                return mapping
            })
            let check = try await keeper.quickCheck(record)
            #expect(!check.inSync)
        }
    }

    @Test("A mapping portkeeper owns but no longer declares: not in sync, told without asking the gateway")
    func ownedNotDeclared() async throws {
        try await Self.reconciled(.igdv2()) { keeper, record, gateway, _ in
            _ = try keeper.undeclare(MappingKey(protocol: .udp, externalPort: 7002), gatewayID: record.id)
            let requests = gateway.requests.count
            let check = try await keeper.quickCheck(record)
            #expect(!check.inSync)
            #expect(gateway.requests.count == requests)
        }
    }

    @Test("Leased mappings: in sync, and the next renewal falls due when half the lease is left")
    func renewal() async throws {
        try await Self.reconciled(.igdv2(), lease: 3600) { keeper, record, _, _ in
            let check = try await keeper.quickCheck(record)
            #expect(check.inSync)
            let renewal = try #require(check.nextRenewal)
            #expect(renewal > .zero && renewal <= .seconds(1800), "\(renewal)")
        }
    }

    @Test("The next renewal: the soonest among declared mappings the table holds with a lease")
    func nextRenewal() {
        func mapping(_ port: UInt16, lease: UInt32) -> DeclaredMapping {
            DeclaredMapping(key: MappingKey(protocol: .tcp, externalPort: port), client: .thisHost, internalPort: port, description: "n", leaseDuration: lease)
        }
        func entry(_ port: UInt16, remaining: UInt32) -> PortMappingEntry {
            PortMappingEntry(externalPort: port, protocol: .tcp, internalPort: port, internalClient: "192.168.1.10", description: "n", leaseDuration: remaining)
        }
        let declared = [mapping(7001, lease: 3600), mapping(7002, lease: 600), mapping(7003, lease: 0)]
        // 3600 s declared, 3000 left: due in 1200 s; 600 declared, 500 left: due in 200 s.
        #expect(Keeper.nextRenewal(declared: declared, table: [entry(7001, remaining: 3000), entry(7002, remaining: 500)]) == .seconds(200))
        #expect(Keeper.nextRenewal(declared: declared, table: [entry(7001, remaining: 3000)]) == .seconds(1200))
        // Half or less left: due now.
        #expect(Keeper.nextRenewal(declared: declared, table: [entry(7001, remaining: 1800)]) == .zero)
        // Permanent on the gateway, not on the table, or not declared: nothing to renew.
        #expect(Keeper.nextRenewal(declared: declared, table: [entry(7003, remaining: 0)]) == nil)
        #expect(Keeper.nextRenewal(declared: declared, table: []) == nil)
        #expect(Keeper.nextRenewal(declared: [], table: [entry(7001, remaining: 3000)]) == nil)
    }
}
