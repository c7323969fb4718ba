import Foundation
import IGDProtocol
import IGDTestSupport
import MappingRegistry
@testable import PortKeeper

/// A registry of its own holding one gateway, reached in memory through a ``Keeper``: what an
/// in-process test of reconcile, plan or rollback starts from. Remove it with ``remove()``.
struct InMemoryBench {
    let registry: Registry
    let scratch: ScratchRegistry
    let gatewayID: Int64
    let gateway: InMemoryGateway
    var keeper: Keeper

    init(_ gateway: InMemoryGateway = InMemoryGateway()) throws {
        (registry, scratch) = try temporaryRegistry("bench")
        // A documentation address (TEST-NET-1): never contacted, the keeper reaches `gateway` instead.
        let service = ObservedGateway.Service(serviceType: .ipConnection2, serviceId: "urn:upnp-org:serviceId:WANIPConn1",
                                              controlURL: GatewayURL(host: IPv4Address(192, 0, 2, 1), port: 5000, target: "/ctl"))
        gatewayID = try registry.recordGateway(ObservedGateway(
            udn: "uuid:in-memory", friendlyName: "Memory Router", manufacturer: "portkeeper tests", modelName: "in-memory", modelNumber: "1",
            descriptionURL: GatewayURL(host: IPv4Address(192, 0, 2, 1), port: 5000, target: "/desc.xml"), services: [service], chosen: service, serviceChoice: "the only one",
            bootID: nil, externalAddress: gateway.external
        )).record.id
        keeper = Keeper(registry: registry, discovery: GatewayBehaviourTests.loopbackDiscovery(port: 9), command: "portkeeper reconcile")
        keeper.mappingGateways = { _ in gateway }
        self.gateway = gateway
    }

    func remove() { scratch.remove() }

    /// The gateway as the registry knows it now (what it learned included).
    func record() throws -> GatewayRecord {
        guard let record = try registry.gateway(id: gatewayID) else { throw PortKeeperError("the bench's gateway is gone from the registry") }
        return record
    }

    /// Declares `port`/`proto` for this host (or `client`), same internal port.
    @discardableResult
    func declare(_ port: UInt16, _ proto: TransportProtocol = .tcp, client: InternalClient = .thisHost, lease: UInt32 = 0) throws -> Int64? {
        try keeper.declare(DeclaredMapping(key: MappingKey(protocol: proto, externalPort: port), client: client, internalPort: port,
                                           description: "m\(port)", leaseDuration: lease), gatewayID: gatewayID)
    }

    func reconcile(_ options: Planner.Options = Planner.Options(), revision: Int64? = nil,
                   shouldStop: @escaping @Sendable () -> Bool = { false }) async throws -> Keeper.ReconcileReport {
        try await keeper.reconcile(try record(), options: options, revision: revision, shouldStop: shouldStop)
    }

    /// The operations a reconcile journaled, in order.
    func operations(_ report: Keeper.ReconcileReport) throws -> [JournaledOperation] {
        guard let revision = report.revision else { throw PortKeeperError("the reconcile opened no revision") }
        return try registry.operations(revision: revision)
    }

    /// The ports of the entries portkeeper owns on the gateway.
    func owned() throws -> [UInt16] {
        try registry.ownedKeys(gatewayID: gatewayID).map(\.externalPort).sorted()
    }

    /// Another program's entry, for another machine of the LAN.
    static func foreign(_ port: UInt16, client: String = "192.168.1.50") -> PortMappingEntry {
        PortMappingEntry(externalPort: port, protocol: .tcp, internalPort: port, internalClient: client, description: "other \(port)")
    }
}
