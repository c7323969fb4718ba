import Foundation
import IGDClient
import IGDProtocol
import IGDTestSupport
import MappingRegistry
import PCPProtocol
@testable import PortKeeper
import Testing

/// A gateway recorded over UPnP IGD whose UPnP the user switched off, PCP left on (as security
/// guides advise): its control URL refuses, discovery no longer finds its UDN, and its
/// PCP/NAT-PMP server answers at its LAN address. The lab test shows it on miniupnpd; here, the
/// decision with the user's choice of protocol and without (issue 9 §1).
@Suite("UPnP switched off at the router, PCP left on")
struct UPnPSwitchedOffTests {
    struct Bench {
        let router = FakePortControlRouter()
        let server: FakePCPServer
        let registry: Registry
        let scratch: ScratchRegistry
        let gatewayID: Int64
        var keeper: Keeper

        init() async throws {
            server = try await FakePCPServer.start(script: router.script)
            (registry, scratch) = try temporaryRegistry("upnp-off")
            // Its UPnP control URL is on the PCP server's address, on a port nothing listens on
            // (TCP 9 on loopback refuses): UPnP is off.
            let service = ObservedGateway.Service(serviceType: .ipConnection2, serviceId: "urn:upnp-org:serviceId:WANIPConn1",
                                                  controlURL: GatewayURL(host: server.address, port: 9, target: "/ctl"))
            gatewayID = try registry.recordGateway(ObservedGateway(
                udn: "uuid:switched-off", friendlyName: "Home Router", manufacturer: "portkeeper tests", modelName: "fake", modelNumber: "1",
                descriptionURL: GatewayURL(host: server.address, port: 9, target: "/desc.xml"), services: [service], chosen: service,
                serviceChoice: "the only one", bootID: nil, externalAddress: nil
            )).record.id
            var discovery = GatewayBehaviourTests.loopbackDiscovery(port: 9)
            discovery.portControl = .server(server.address, port: server.port)
            // The probe has discovery's window: a generous one, for a fake answering on a busy
            // machine (the search ends soon after the probe's answer all the same).
            discovery.window = .seconds(20)
            keeper = Keeper(registry: registry, client: roomyClient(), discovery: discovery, command: "portkeeper reconcile")
            keeper.portControl = PortControlClient(serverPort: server.port)
            _ = try keeper.declare(DeclaredMapping(key: MappingKey(protocol: .tcp, externalPort: 7101), client: .thisHost, internalPort: 7101,
                                               description: "web", leaseDuration: 0), gatewayID: gatewayID)
        }

        func record() throws -> GatewayRecord { try #require(try registry.gateway(id: gatewayID)) }

        func remove() async {
            await server.shutdown()
            scratch.remove()
        }
    }

    @Test("portkeeper's own choice: the reconcile goes on over PCP, the gateway is kept over PCP from then on, and the move is history")
    func switchesToPCP() async throws {
        let bench = try await Bench()
        defer { Task { await bench.remove() } }
        #expect(try bench.record().mappingProtocol.0 == .upnp)

        let report = try await bench.keeper.reconcile(try bench.record(), options: Planner.Options())
        #expect(report.succeeded, "\(report.failures)")
        // PCP, which the fake speaks; NAT-PMP when a loaded machine kept discovery's probe from
        // hearing PCP's answer in time (its NAT-PMP answer came): either way, off UPnP.
        let now = try bench.record()
        #expect([.pcp, .natPMP].contains(now.mappingProtocol.0), "\(now.mappingProtocol)")
        #expect(report.changes.contains { $0.kind == .gatewayMoved && $0.detail.contains("\(now.mappingProtocol.0) at \(bench.server.address):5351") }, "\(report.changes)")
        #expect(report.changes.contains { $0.kind == .added && $0.key?.externalPort == 7101 }, "\(report.changes)")
        #expect(bench.router.snapshot.mappings.map(\.internalPort) == [7101])

        #expect(now.udn == "uuid:switched-off", "the same gateway, by the same identity")
        #expect(now.service == nil && now.descriptionURL == nil)
        #expect(try bench.registry.gateways().count == 1)
        // The next reconcile goes straight to PCP: in sync, nothing found, nothing moved.
        let again = try await bench.keeper.reconcile(now, options: Planner.Options())
        #expect(again.succeeded && again.changes.isEmpty, "\(again.changes)")
    }

    @Test("the switch seen first by `status`: history records it as status's revision, and the reconcile after it moves nothing")
    func switchSeenByStatus() async throws {
        let bench = try await Bench()
        defer { Task { await bench.remove() } }
        var status = bench.keeper
        status.command = "portkeeper status"
        let statusKeeper = status
        let error = await #expect(throws: PortKeeperError.self) { try await statusKeeper.status(.any) }
        #expect(error?.context == .upnpGone, "\(String(describing: error))")
        let now = try bench.record()
        #expect([.pcp, .natPMP].contains(now.mappingProtocol.0), "\(now.mappingProtocol)")
        let newest = try #require(try bench.registry.history(limit: 1).first)
        #expect(newest.command == "portkeeper status", "\(newest)")
        #expect(newest.changes.contains { $0.kind == .gatewayMoved && $0.detail.contains("\(now.mappingProtocol.0) at \(bench.server.address):5351") }, "\(newest.changes)")
        #expect(try bench.registry.revisionGateway(newest.number) == bench.gatewayID)
        #expect(bench.router.snapshot.mappings.isEmpty, "status maps nothing")

        let report = try await bench.keeper.reconcile(now, options: Planner.Options())
        #expect(report.succeeded, "\(report.failures)")
        #expect(!report.changes.contains { $0.kind == .gatewayMoved }, "\(report.changes)")
        #expect(bench.router.snapshot.mappings.map(\.internalPort) == [7101])
        let moves = try bench.registry.history(limit: 100).flatMap(\.changes).filter { $0.kind == .gatewayMoved }
        #expect(moves.count == 1, "\(moves)")
    }

    @Test("UPnP chosen by the user (--protocol upnp): not switched; one line says PCP answers and what to do, and nothing is mapped")
    func declaredUPnPStays() async throws {
        let bench = try await Bench()
        defer { Task { await bench.remove() } }
        try bench.registry.declareProtocol(.upnp, gatewayID: bench.gatewayID)

        let error = await #expect(throws: PortKeeperError.self) {
            try await bench.keeper.reconcile(try bench.record(), options: Planner.Options())
        }
        #expect(error?.kind == .gatewayUnreachable)
        #expect(error?.message.contains("PCP/NAT-PMP answers at \(bench.server.address), but UPnP IGD was chosen for it") == true, "\(String(describing: error))")
        #expect(error?.hint?.contains("choose PCP for this gateway") == true)
        #expect(bench.router.snapshot.mappings.isEmpty)
        #expect(try bench.record().mappingProtocol.0 == .upnp)
    }
}
