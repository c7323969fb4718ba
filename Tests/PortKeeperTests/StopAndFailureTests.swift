import Foundation
import IGDClient
import IGDProtocol
import IGDTestSupport
import MappingRegistry
@testable import PortKeeper
import Testing

/// A gateway that stops answering mid-reconcile is not sent anything more; a 714 on delete
/// means gone; a failure is one line naming what failed, where, and what to try.
@Suite("Stopping and failing in one line")
struct StopAndFailureTests {
    static func declare(_ keeper: Keeper, _ ports: [UInt16], gatewayID: Int64) throws {
        for port in ports {
            _ = try keeper.declare(DeclaredMapping(key: MappingKey(protocol: .tcp, externalPort: port), client: .thisHost, internalPort: port, description: "m\(port)"),
                                   gatewayID: gatewayID)
        }
    }

    @Test("A gateway that hangs mid-reconcile: one deadline, the rest journaled as not sent, and the next reconcile converges")
    func hangMidReconcile() async throws {
        let gateway = try await SimulatedGateway.start(profile: .igdv2(), ssdp: false)
        let (registry, scratch) = try temporaryRegistry("stop")
        defer { scratch.remove() }
        do {
            let setup = Keeper(registry: registry, client: roomyClient(), discovery: GatewayBehaviourTests.loopbackDiscovery(port: 9), command: "test add")
            let record = try await setup.gateway(gateway.descriptionURL)
            try Self.declare(setup, [7001, 7002, 7003], gatewayID: record.id)
            // Each request has a deadline of its own: generous for a busy machine, and waited
            // out once, not three times.
            // 15 s: a loaded machine has been seen to take over 5 s to answer the listing first.
            let client = GatewayClient(limits: HTTPLimits(connectTimeout: .seconds(15), readTimeout: .seconds(15), deadline: .seconds(15)))
            let keeper = Keeper(registry: registry, client: client, discovery: GatewayBehaviourTests.loopbackDiscovery(port: 9), command: "test reconcile")
            gateway.injectReply(action: "AddPortMapping", reply: .hang)

            let report = try await keeper.reconcile(record, options: Planner.Options())
            #expect(gateway.actionCount("AddPortMapping") == 1, "nothing is sent after the timeout")
            #expect(!report.inSync && !report.succeeded)
            let unreachable = try #require(report.unreachable)
            #expect(unreachable.description.contains("did not answer AddPortMapping within 15 s"), "\(unreachable)")
            #expect(unreachable.description.contains("2 operations were not sent"), "\(unreachable)")
            #expect(report.notSent.map(\.externalPort) == [7002, 7003])
            let operations = try registry.operations(revision: try #require(report.revision))
            #expect(operations.map(\.key.externalPort) == [7001, 7002, 7003])
            #expect(operations.map(\.outcome).first.map { if case .unknown = $0 { true } else { false } } == true, "the one sent has an unknown outcome")
            #expect(operations.dropFirst().map(\.outcome) == [.failed(Keeper.notSentReason), .failed(Keeper.notSentReason)])
            #expect(report.changes.filter { $0.kind == .failed }.count == 3)

            // Healthy again: the unknown outcome is resolved by reading, and all three are made.
            let again = try await keeper.reconcile(try #require(try registry.gateway(id: record.id)), options: Planner.Options())
            #expect(again.inSync && again.unreachable == nil)
            #expect(Set(gateway.mappings.map(\.externalPort)) == [7001, 7002, 7003])
            #expect(try registry.unresolvedOperations(gatewayID: record.id).isEmpty)
            #expect(try registry.ownedKeys(gatewayID: record.id).map(\.externalPort).sorted() == [7001, 7002, 7003])
        } catch {
            await gateway.shutdown()
            throw error
        }
        await gateway.shutdown()
    }

    @Test("A timeout, a refused connection or a spent deadline stops the sending; a fault or a broken answer does not")
    func whatStopsTheSending() {
        #expect(Reconciliation.meansUnreachable(TransportError(.connectionRefused, url: "http://127.0.0.1:1/ctl", "connection refused")))
        #expect(Reconciliation.meansUnreachable(TransportError(.timeout, url: "http://127.0.0.1:1/ctl", "no complete answer within 5 s")))
        #expect(Reconciliation.meansUnreachable(TransportError(.connectTimeout, url: "http://127.0.0.1:1/ctl", "no connection within 2 s")))
        #expect(Reconciliation.meansUnreachable(DeadlineExceeded(what: "reconcile", length: .seconds(60))))
        #expect(!Reconciliation.meansUnreachable(UPnPError(code: 718)))
        #expect(!Reconciliation.meansUnreachable(UnexpectedHTTPStatus(status: 500, action: "AddPortMapping")))
        #expect(!Reconciliation.meansUnreachable(TransportError(.closedEarly, url: "http://127.0.0.1:1/ctl", "connection closed")))
    }

    @Test("714 on a delete: the mapping is gone, its ownership record dropped, and the reconcile succeeds")
    func deleteAnswered714() async throws {
        let gateway = try await SimulatedGateway.start(profile: .igdv2(), ssdp: false)
        let (registry, scratch) = try temporaryRegistry("stop")
        defer { scratch.remove() }
        do {
            let keeper = Keeper(registry: registry, client: roomyClient(), discovery: GatewayBehaviourTests.loopbackDiscovery(port: 9), command: "test")
            let record = try await keeper.gateway(gateway.descriptionURL)
            try Self.declare(keeper, [7201], gatewayID: record.id)
            #expect(try await keeper.reconcile(record, options: Planner.Options()).inSync)
            let key = MappingKey(protocol: .tcp, externalPort: 7201)
            #expect(try registry.ownedKeys(gatewayID: record.id) == [key])

            let revision = try keeper.undeclare(key, gatewayID: record.id)
            gateway.injectFault(action: "DeletePortMapping", code: 714)
            let report = try await keeper.reconcile(record, options: Planner.Options(), revision: revision)
            #expect(report.succeeded, "\(report.failures)")
            #expect(report.failures.isEmpty)
            #expect(try registry.ownedKeys(gatewayID: record.id).isEmpty)
            #expect(report.changes.contains { $0.kind == .deleted && $0.key == key && $0.detail.contains("already gone") && $0.detail.contains("714 NoSuchEntryInArray") })
            #expect(try registry.operations(revision: revision).map(\.outcome) == [.upnp(714)])
        } catch {
            await gateway.shutdown()
            throw error
        }
        await gateway.shutdown()
    }

    @Test("Failure texts: faults by name with their kind and code, Foundation's texts removed")
    func failureTexts() {
        let conflict = Failure.explain(UPnPError(code: 718, deviceDescription: "ConflictInMappingEntry"), doing: "AddPortMapping 8080/tcp on Router")
        #expect(conflict.message == "AddPortMapping 8080/tcp on Router failed: the gateway answered 718 ConflictInMappingEntry")
        // What to try (--force) is the CLI's to say (PortKeeperCLITests).
        #expect(conflict.kind == .conflict && conflict.context == .fault(718))
        #expect(Failure.explain(UPnPError(code: 606), doing: "x").description.hasSuffix("; enable UPnP port mapping (or 'allow changes') in the router's settings"))
        #expect(Failure.outcome(.upnp(718)) == "the gateway answered 718 ConflictInMappingEntry")
        #expect(Failure.outcome(.upnp(899)).contains("899"))
        let http = Failure.explain(UnexpectedHTTPStatus(status: 500, action: "AddPortMapping"), doing: "AddPortMapping 8080/tcp on Router")
        #expect(!http.description.contains("unknown:"))
        #expect(http.description.contains("HTTP 500 and no UPnP fault"))
        let xml = Failure.explain(ProtocolViolation("malformed XML (The operation couldn’t be completed. (NSXMLParserErrorDomain error 5.), line 1)"), doing: "reading")
        #expect(!xml.description.contains("NSXMLParserErrorDomain"), "\(xml)")
        #expect(xml.description.contains("malformed XML (line 1)"), "\(xml)")
        let deadline = Failure.explain(DeadlineExceeded(what: "list", length: .seconds(60), action: "GetGenericPortMappingEntry"), doing: "reading the mappings of Router")
        #expect(deadline.description.contains("list did not finish within 60 s"))
    }
}
