import Foundation
import IGDClient
import IGDProtocol
import IGDTestSupport
import MappingRegistry
@testable import PortKeeper
import Testing

/// How reconcile copes with what gateways do: refuse leases, move after a reboot.
@Suite("Gateway behaviour")
struct GatewayBehaviourTests {
    /// Discovery on loopback only, to `port` (a fake responder's, or 9 where nothing answers):
    /// an in-process keeper that looks for a gateway again must never search a real network.
    static func loopbackDiscovery(port: Int) -> DiscoveryOptions {
        var options = DiscoveryOptions()
        options.localInterfaces = [SearchInterface(name: "lo", address: IPv4Address(127, 0, 0, 1))]
        options.targetHost = "127.0.0.1"
        options.targetPort = port
        // Port 9 (discard) is where nobody answers: a search there must find nothing, and soon.
        // Elsewhere a fake answers, and the search returns shortly after its answer.
        options.window = port == 9 ? .seconds(1) : .seconds(10)
        return options
    }

    @Test("725 OnlyPermanentLeasesSupported: retried with lease 0, and remembered for the gateway")
    func permanentLeasesOnly() async throws {
        let gateway = try await SimulatedGateway.start(profile: .igdv2(permanentLeasesOnly: true), ssdp: false)
        let (registry, scratch) = try temporaryRegistry("gb")
        defer { scratch.remove() }
        do {
            let keeper = Keeper(registry: registry, client: roomyClient(), discovery: Self.loopbackDiscovery(port: 9), command: "test")
            let record = try await keeper.gateway(gateway.descriptionURL)
            let web = DeclaredMapping(key: MappingKey(protocol: .tcp, externalPort: 8080), client: .thisHost, internalPort: 8080, description: "web", leaseDuration: 3600)
            let revision = try keeper.declare(web, gatewayID: record.id)
            let report = try await keeper.reconcile(record, options: Planner.Options(), revision: revision)
            #expect(report.inSync)
            #expect(gateway.mappings.map(\.leaseDuration) == [0])
            #expect(gateway.actionCount("AddPortMapping") == 2)
            #expect(try registry.gateway(id: record.id)?.permanentLeasesOnly == true)
            let operations = try registry.operations(revision: try #require(revision))
            #expect(operations.map(\.outcome) == [.upnp(725), .ok])

            // Known now: the next mapping asks for lease 0 straight away.
            let dns = DeclaredMapping(key: MappingKey(protocol: .udp, externalPort: 5353), client: .thisHost, internalPort: 5353, description: "dns", leaseDuration: 600)
            let second = try keeper.declare(dns, gatewayID: record.id)
            let again = try await keeper.reconcile(try #require(try registry.gateway(id: record.id)), options: Planner.Options(), revision: second)
            #expect(again.inSync)
            #expect(gateway.actionCount("AddPortMapping") == 3)
        } catch {
            await gateway.shutdown()
            throw error
        }
        await gateway.shutdown()
    }

    /// A gateway recorded with 8080/tcp made on it, which then reboots onto another port, its
    /// table empty: the record, and the gateway as it is now (the caller shuts it down).
    static func gatewayThatMoves(_ registry: Registry) async throws -> (record: GatewayRecord, after: SimulatedGateway) {
        let before = try await SimulatedGateway.start(profile: .igdv2(), ssdp: true)
        let keeper = Keeper(registry: registry, client: roomyClient(), discovery: loopbackDiscovery(port: before.ssdpPort ?? 0), command: "test add")
        let record = try await keeper.gateway(before.descriptionURL)
        let web = DeclaredMapping(key: MappingKey(protocol: .tcp, externalPort: 8080), client: .thisHost, internalPort: 8080, description: "web")
        _ = try await keeper.reconcile(record, options: Planner.Options(), revision: try keeper.declare(web, gatewayID: record.id))
        #expect(before.mappings.count == 1)
        await before.shutdown()
        let after = try await SimulatedGateway.start(profile: .igdv2(), ssdp: true)
        #expect(after.descriptionURL != before.descriptionURL)
        return (record, after)
    }

    @Test("A gateway that comes back on another port is found again by UDN, and history says so")
    func gatewayMoved() async throws {
        let (registry, scratch) = try temporaryRegistry("gb")
        defer { scratch.remove() }
        let (record, after) = try await Self.gatewayThatMoves(registry)
        do {
            let moved = Keeper(registry: registry, client: roomyClient(), discovery: Self.loopbackDiscovery(port: after.ssdpPort ?? 0), command: "test reconcile")
            let report = try await moved.reconcile(try #require(try registry.gateway(id: record.id)), options: Planner.Options())
            #expect(report.inSync)
            #expect(after.mappings.map(\.externalPort) == [8080])
            #expect(report.changes.contains { $0.kind == .gatewayMoved })
            let stored = try #require(try registry.gateway(id: record.id))
            #expect(stored.descriptionURL?.description == after.descriptionURL)
            #expect(try registry.gateways().count == 1)
            let history = try registry.history(limit: 1)
            #expect(history.first?.changes.contains { $0.kind == .gatewayMoved && $0.detail.contains(after.descriptionURL) } == true)
        } catch {
            await after.shutdown()
            throw error
        }
        await after.shutdown()
    }

    @Test("A move seen first by `status` is history too, recorded once: the reconcile after it finds nothing moved")
    func moveSeenByStatus() async throws {
        let (registry, scratch) = try temporaryRegistry("gb")
        defer { scratch.remove() }
        let (record, after) = try await Self.gatewayThatMoves(registry)
        do {
            let status = Keeper(registry: registry, client: roomyClient(), discovery: Self.loopbackDiscovery(port: after.ssdpPort ?? 0), command: "portkeeper status")
            let seen = try await status.status(.any)
            #expect(seen.descriptionURL.description == after.descriptionURL)
            let newest = try #require(try registry.history(limit: 1).first)
            #expect(newest.command == "portkeeper status" && newest.actor == .cli, "\(newest)")
            #expect(newest.summary == "gateway moved", "\(newest.summary)")
            #expect(newest.changes.map(\.kind) == [.gatewayMoved], "\(newest.changes)")
            #expect(newest.changes.first?.detail.hasSuffix("→ \(after.descriptionURL)") == true, "\(newest.changes)")
            #expect(try registry.revisionGateway(newest.number) == record.id)
            #expect(after.mappings.isEmpty, "status changes no mapping")

            // Already recorded where it is: the reconcile restores the mapping and moves nothing.
            let reconcile = Keeper(registry: registry, client: roomyClient(), discovery: Self.loopbackDiscovery(port: after.ssdpPort ?? 0), command: "test reconcile")
            let report = try await reconcile.reconcile(try #require(try registry.gateway(id: record.id)), options: Planner.Options())
            #expect(report.inSync)
            #expect(!report.changes.contains { $0.kind == .gatewayMoved }, "\(report.changes)")
            let moves = try registry.history(limit: 100).flatMap(\.changes).filter { $0.kind == .gatewayMoved }
            #expect(moves.count == 1, "\(moves)")
            // Seen again where it already is: nothing more for history.
            let count = try registry.history(limit: 100).count
            _ = try await status.status(.any)
            #expect(try registry.history(limit: 100).count == count)
        } catch {
            await after.shutdown()
            throw error
        }
        await after.shutdown()
    }
}
