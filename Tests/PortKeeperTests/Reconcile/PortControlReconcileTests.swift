import Foundation
import IGDClient
import IGDProtocol
import IGDTestSupport
import MappingRegistry
import PCPProtocol
@testable import PortKeeper
import Testing

/// A wall clock that moves only when told: epochs and grants are recorded in wall-clock time.
final class SteppedWallClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current = Date(timeIntervalSince1970: 1_800_000_000)
    var now: @Sendable () -> Date { { self.lock.withLock { self.current } } }
    func advance(seconds: Double) { lock.withLock { current = current.addingTimeInterval(seconds) } }
}

/// A registry holding one PCP/NAT-PMP gateway reached at a ``FakePortControlRouter`` on loopback.
struct PortControlBench {
    let router: FakePortControlRouter
    let server: FakePCPServer
    let registry: Registry
    let scratch: ScratchRegistry
    let gatewayID: Int64
    let clock = SteppedWallClock()
    var keeper: Keeper

    static func start(speaksPCP: Bool = true, configure: @Sendable (inout FakePortControlRouter.State) -> Void = { _ in }) async throws -> PortControlBench {
        let router = FakePortControlRouter()
        router.change { $0.speaksPCP = speaksPCP }
        router.change(configure)
        return try await PortControlBench(router: router, speaksPCP: speaksPCP)
    }

    private init(router: FakePortControlRouter, speaksPCP: Bool) async throws {
        server = try await FakePCPServer.start(script: router.script)
        (registry, scratch) = try temporaryRegistry("pcp")
        gatewayID = try registry.recordPortControl(ObservedPortControl(server: server.address, speaksPCP: speaksPCP, speaksNATPMP: true)).record.id
        keeper = Keeper(registry: registry, client: roomyClient(), discovery: GatewayBehaviourTests.loopbackDiscovery(port: 9), command: "portkeeper reconcile")
        keeper.portControl = PortControlClient(serverPort: server.port)
        keeper.wallClock = clock.now
        self.router = router
    }

    func remove() async {
        await server.shutdown()
        scratch.remove()
    }

    @discardableResult
    func declare(_ port: UInt16, _ proto: TransportProtocol = .tcp, lease: UInt32 = 0) throws -> Int64? {
        try keeper.declare(DeclaredMapping(key: MappingKey(protocol: proto, externalPort: port), client: .thisHost, internalPort: port,
                                           description: "m\(port)", leaseDuration: lease), gatewayID: gatewayID)
    }

    func reconcile(revision: Int64? = nil) async throws -> Keeper.ReconcileReport {
        try await keeper.reconcile(try #require(try registry.gateway(id: gatewayID)), options: Planner.Options(), revision: revision)
    }

    /// Time passes for both: the router's epoch and portkeeper's clock.
    func advance(seconds: UInt32) {
        router.advance(seconds: seconds)
        clock.advance(seconds: Double(seconds))
    }

    func kept() throws -> [PortControlMapping] { try registry.portControlMappings(gatewayID: gatewayID) }
}

@Suite("Reconcile over PCP and NAT-PMP, in process")
struct PortControlReconcileTests {
    @Test("A declared mapping is made with the nonce the registry kept before sending, and the router holds exactly it")
    func mapsWithTheKeptNonce() async throws {
        let bench = try await PortControlBench.start()
        defer { Task { await bench.remove() } }
        try bench.declare(7001)
        let report = try await bench.reconcile()
        #expect(report.succeeded, "\(report.failures)")
        #expect(report.changes.map(\.kind) == [.added])
        let kept = try #require(try bench.kept().first)
        let held = try #require(bench.router.snapshot.mappings.first)
        #expect(held.nonce?.description == kept.nonce)
        #expect(kept.assignedExternalPort == 7001 && kept.lifetime == 86400 && kept.via == .pcp)
        #expect(try bench.registry.ownedKeys(gatewayID: bench.gatewayID).map(\.externalPort) == [7001])
    }

    @Test("An in-sync reconcile sends one MAP per mapping (verify and renew), opens no revision and leaves the registry's history alone")
    func inSyncIsOneMapPerMappingAndNoHistory() async throws {
        let bench = try await PortControlBench.start()
        defer { Task { await bench.remove() } }
        for port in [7001, 7002, 7003] as [UInt16] { try bench.declare(port) }
        _ = try await bench.reconcile()
        let revisions = try bench.registry.history(limit: 100).count
        let before = bench.router.snapshot.mapRequests
        for _ in 0..<5 {
            bench.advance(seconds: 60)
            let report = try await bench.reconcile()
            #expect(report.inSync && report.revision == nil && report.changes.isEmpty)
        }
        #expect(bench.router.snapshot.mapRequests - before == 15)
        #expect(try bench.registry.history(limit: 100).count == revisions)
        #expect(bench.router.snapshot.mappings.count == 3)
        // Each renewal moved the grant forward.
        #expect(try bench.kept().allSatisfy { $0.granted == bench.clock.now() })
    }

    @Test("A router that restarted (its epoch went back) lost its mappings: the next reconcile finds them missing and makes them again")
    func restoresAfterReboot() async throws {
        let bench = try await PortControlBench.start()
        defer { Task { await bench.remove() } }
        try bench.declare(7001)
        try bench.declare(7002, .udp)
        _ = try await bench.reconcile()
        bench.advance(seconds: 600)
        bench.router.reboot(epoch: 2)
        let plan = try await bench.keeper.plan(try #require(try bench.registry.gateway(id: bench.gatewayID)), options: Planner.Options())
        #expect(plan.plan.adds.map(\.declared.key.externalPort) == [7001, 7002])
        #expect(bench.router.snapshot.mappings.isEmpty, "plan sends no MAP")
        let report = try await bench.reconcile()
        #expect(report.succeeded)
        #expect(report.changes.filter { $0.kind == .added }.count == 2)
        #expect(bench.router.snapshot.mappings.count == 2)
    }

    @Test("An epoch that advances with our clock is no restart, even after a long time")
    func epochInStepIsNoRestart() async throws {
        let bench = try await PortControlBench.start()
        defer { Task { await bench.remove() } }
        try bench.declare(7001)
        _ = try await bench.reconcile()
        bench.advance(seconds: 3000)
        let plan = try await bench.keeper.plan(try #require(try bench.registry.gateway(id: bench.gatewayID)), options: Planner.Options())
        #expect(plan.plan.isInSync)
    }

    @Test("A gateway that assigns another external port: recorded, shown in the change, and in sync")
    func anotherExternalPort() async throws {
        let bench = try await PortControlBench.start { $0.assignedPort = 40001 }
        defer { Task { await bench.remove() } }
        try bench.declare(7001)
        let report = try await bench.reconcile()
        #expect(report.succeeded)
        #expect(report.changes.first?.detail.contains("assigned external port 40001") == true)
        #expect(try bench.kept().first?.assignedExternalPort == 40001)
        let again = try await bench.reconcile()
        #expect(again.inSync && again.revision == nil)
    }

    @Test("A mapping no longer declared is deleted with its own nonce (another nonce would be refused) and forgotten")
    func deletesWithTheSameNonce() async throws {
        let bench = try await PortControlBench.start()
        defer { Task { await bench.remove() } }
        try bench.declare(7001)
        _ = try await bench.reconcile()
        let revision = try bench.keeper.undeclare(MappingKey(protocol: .tcp, externalPort: 7001), gatewayID: bench.gatewayID)
        let report = try await bench.reconcile(revision: revision)
        #expect(report.succeeded, "\(report.failures)")
        #expect(bench.router.snapshot.mappings.isEmpty)
        #expect(try bench.kept().isEmpty)
        #expect(try bench.registry.ownedKeys(gatewayID: bench.gatewayID).isEmpty)
    }

    @Test("A request that was never answered is sent again with the same nonce: the router holds one mapping, not two")
    func retryAfterLostAnswerKeepsTheNonce() async throws {
        let bench = try await PortControlBench.start()
        defer { Task { await bench.remove() } }
        try bench.declare(7001)
        // The router acts but its answer is lost: the nonce was kept before sending.
        bench.router.change { $0.answersMaps = false }
        // Roomy limits; the MAP gives up when its one 3 s wait passes unanswered (the ANNOUNCE before it is answered).
        var lost = Keeper(registry: bench.registry, client: roomyClient(), command: "portkeeper reconcile")
        lost.portControl = PortControlClient(serverPort: bench.server.port, pcpSchedule: .listed([.seconds(3)]))
        lost.wallClock = bench.clock.now
        let interrupted = try await lost.reconcile(try #require(try bench.registry.gateway(id: bench.gatewayID)), options: Planner.Options())
        #expect(interrupted.unreachable != nil)
        #expect(bench.router.snapshot.mappings.count == 1)
        bench.router.change { $0.answersMaps = true }
        let nonce = try #require(try bench.kept().first?.nonce)
        let report = try await bench.reconcile()
        #expect(report.succeeded, "\(report.failures)")
        #expect(try bench.kept().first?.nonce == nonce)
        #expect(bench.router.snapshot.mappings.count == 1)
        #expect(bench.router.snapshot.mappings.first?.nonce?.description == nonce)
    }

    @Test("A NAT-PMP-only router (UNSUPP_VERSION to PCP): the mapping is made over NAT-PMP and the registry learns it")
    func fallsBackToNATPMP() async throws {
        let bench = try await PortControlBench.start(speaksPCP: false)
        defer { Task { await bench.remove() } }
        // Recorded as answering PCP (as a first probe might), it answers version 0.
        try bench.registry.recordPortControl(ObservedPortControl(server: bench.server.address, speaksPCP: true, speaksNATPMP: true))
        try bench.declare(7001, lease: 60)
        let report = try await bench.reconcile()
        #expect(report.succeeded, "\(report.failures)")
        let record = try #require(try bench.registry.gateway(id: bench.gatewayID))
        #expect(record.mappingProtocol.0 == .natPMP && !record.speaksPCP)
        #expect(try bench.kept().first?.via == .natPMP && bench.kept().first?.lifetime == 60)
        #expect(bench.router.snapshot.mappings.first?.nonce == nil)
    }

    @Test("A refusal is one failure naming the result code with what to try; nothing is recorded as made")
    func refusalIsExplained() async throws {
        let bench = try await PortControlBench.start { $0.refusal = .noResources }
        defer { Task { await bench.remove() } }
        try bench.declare(7001)
        let report = try await bench.reconcile()
        #expect(!report.inSync)
        let failure = try #require(report.failures.first?.error)
        #expect(failure.message.contains("PCP NO_RESOURCES (8)"))
        #expect(failure.hint?.contains("no room for more mappings") == true)
        #expect(try bench.registry.ownedKeys(gatewayID: bench.gatewayID).isEmpty)
        #expect(try bench.kept().first?.granted == nil)
    }

    @Test("A short grant is renewed between 1/2 and 5/8 of its lifetime, and the next renewal is reported")
    func renewalSchedule() async throws {
        let bench = try await PortControlBench.start { $0.maximumLifetime = 120 }
        defer { Task { await bench.remove() } }
        try bench.declare(7001)
        let report = try await bench.reconcile()
        let next = try #require(report.nextRenewal)
        #expect(next >= .seconds(60) && next <= .seconds(75))
        let kept = try #require(try bench.kept().first)
        #expect(PortControlGateway.renewalDue(kept, at: bench.clock.now().addingTimeInterval(76)) == .zero)
        // Due: a quick check says so; in time it does not.
        let record = try #require(try bench.registry.gateway(id: bench.gatewayID))
        #expect(try await bench.keeper.quickCheck(record).inSync)
        bench.advance(seconds: 80)
        #expect(try await bench.keeper.quickCheck(record).inSync == false)
    }

    @Test("An announced epoch below the kept one marks the mappings lost even within the check's slack (a restart right after a start); a later one does not")
    func announcedEpochMarksLost() async throws {
        let bench = try await PortControlBench.start()
        defer { Task { await bench.remove() } }
        try bench.declare(7001)
        _ = try await bench.reconcile()
        bench.advance(seconds: 1)
        let record = try #require(try bench.registry.gateway(id: bench.gatewayID))
        let target = KeeperWatchTarget(keeper: bench.keeper)
        let kept = try #require(record.serverEpoch?.seconds)
        try target.serverAnnounced(epoch: kept + 1, of: record)
        #expect(try bench.kept().first?.granted != nil)
        // The router restarted one second after the last answer: the epoch check alone cannot tell.
        bench.router.reboot(epoch: kept - 1)
        try target.serverAnnounced(epoch: kept - 1, of: record)
        #expect(try bench.kept().first?.granted == nil)
        let report = try await bench.reconcile()
        #expect(report.succeeded && report.changes.contains { $0.kind == .added })
        #expect(bench.router.snapshot.mappings.count == 1)
    }

    @Test("`status` seeing a new external address over NAT-PMP records it in history as its own revision, once; the same address again adds nothing")
    func statusRecordsANewAddress() async throws {
        let bench = try await PortControlBench.start()
        defer { Task { await bench.remove() } }
        var keeper = bench.keeper
        keeper.command = "portkeeper status"
        let first = try await keeper.portControlStatus(try #require(try bench.registry.gateway(id: bench.gatewayID)))
        #expect(first.external?.reported == "203.0.113.9")
        let before = try bench.registry.history(limit: 100).count

        bench.router.change { $0.externalAddress = IPv4Address(198, 51, 100, 20) }
        let second = try await keeper.portControlStatus(try #require(try bench.registry.gateway(id: bench.gatewayID)))
        #expect(second.external?.reported == "198.51.100.20")
        let history = try bench.registry.history(limit: 100)
        #expect(history.count == before + 1)
        let newest = try #require(history.first)
        #expect(newest.command == "portkeeper status" && newest.summary == "external address changed", "\(newest)")
        #expect(newest.changes.map(\.detail) == ["external address 203.0.113.9 → 198.51.100.20"], "\(newest.changes)")

        _ = try await keeper.portControlStatus(try #require(try bench.registry.gateway(id: bench.gatewayID)))
        #expect(try bench.registry.history(limit: 100).count == before + 1)
    }

    @Test("`status` over NAT-PMP sends one datagram: the address request's answer carries the epoch; a restart it shows is kept for the next reconcile")
    func natPMPStatusIsOneRequest() async throws {
        let bench = try await PortControlBench.start(speaksPCP: false)
        defer { Task { await bench.remove() } }
        try bench.declare(7301)
        #expect(try await bench.reconcile().succeeded)
        let record = try #require(try bench.registry.gateway(id: bench.gatewayID))
        #expect(record.mappingProtocol.0 == .natPMP)

        let probes = bench.router.snapshot.probes
        let status = try await bench.keeper.portControlStatus(record)
        #expect(bench.router.snapshot.probes == probes + 1, "one address request, not one for the address and one for the epoch")
        #expect(status.external?.reported == "203.0.113.9" && status.epochSeconds == bench.router.snapshot.epoch)

        // The router restarts (its epoch starts again, its mappings gone): status notes the epoch,
        // and the reconcile after it still knows the mapping was lost.
        bench.router.change { $0.epoch = 3; $0.mappings = [] }
        let after = try await bench.keeper.portControlStatus(try #require(try bench.registry.gateway(id: bench.gatewayID)))
        #expect(after.epochSeconds == 3)
        let report = try await bench.reconcile()
        #expect(report.succeeded && report.changes.contains { $0.kind == .added && $0.key?.externalPort == 7301 }, "\(report.changes) \(report.plan)")
        #expect(bench.router.snapshot.mappings.map(\.internalPort) == [7301])
    }
}
