import Foundation
import IGDProtocol
import IGDTestSupport
import PortKeeperModel
import Testing
@testable import MappingRegistry

/// Records hold typed values, and a row whose values do not fit them is damage: a "registry
/// corrupt" error naming the row and the column, never a default (1970 for a time, "this host"
/// for a client, a row left out). The bad rows are written from outside, as another SQLite
/// client would.
@Suite("Rows that do not decode")
struct UndecodableRowTests {
    /// A registry holding one gateway, one declared mapping, one journaled add, one owned
    /// mapping and one observation.
    static func seeded(in directory: String) throws -> (registry: Registry, gatewayID: Int64, revision: Int64) {
        let registry = try Registry(path: directory + "/registry.sqlite")
        let host = IPv4Address(192, 0, 2, 1)
        let service = ObservedGateway.Service(serviceType: .ipConnection2, serviceId: "urn:upnp-org:serviceId:WANIPConn1",
                                              controlURL: GatewayURL(host: host, port: 5000, target: "/ctl/IPConn"))
        let gatewayID = try registry.recordGateway(ObservedGateway(
            udn: "uuid:rows", friendlyName: "Rows", manufacturer: "", modelName: "", modelNumber: "",
            descriptionURL: GatewayURL(host: host, port: 5000, target: "/rootDesc.xml"), services: [service], chosen: service,
            serviceChoice: "the only one", bootID: 7, externalAddress: ExternalAddress(reported: "203.0.113.9")
        )).record.id
        let key = MappingKey(protocol: .tcp, externalPort: 8080)
        let mapping = DeclaredMapping(key: key, client: .address(IPv4Address(192, 0, 2, 20)), internalPort: 80, description: "web")
        let revision: Int64 = try registry.changeDeclaration(gatewayID: gatewayID, command: "test", actor: .cli) { _ in
            ([mapping], [Change(.declared, key, "web")], "declared")
        }
        let entry = mapping.entry(hostAddress: IPv4Address(192, 0, 2, 30))
        let operation = try registry.journalIntent(revision: revision, gatewayID: gatewayID, action: .add, key: key, entry: entry, before: nil)
        try registry.journalOutcome(operation, .unknown("timeout"))
        try registry.setOwned(key, gatewayID: gatewayID, revision: revision, owned: true)
        try registry.recordObservation(gatewayID: gatewayID, entries: [entry])
        return (registry, gatewayID, revision)
    }

    @Test("A recorded gateway reads back typed: its URLs, service type and id, first seen and BOOTID")
    func gatewayReadsBackTyped() async throws {
        try await withTemporaryDirectory { directory in
            let (registry, gatewayID, _) = try Self.seeded(in: directory)
            let record = try #require(try registry.gateway(id: gatewayID))
            #expect(record.descriptionURL == GatewayURL(host: IPv4Address(192, 0, 2, 1), port: 5000, target: "/rootDesc.xml"))
            #expect(record.controlURL == GatewayURL(host: IPv4Address(192, 0, 2, 1), port: 5000, target: "/ctl/IPConn"))
            #expect(record.serviceType == .ipConnection2)
            #expect(record.service?.serviceId == "urn:upnp-org:serviceId:WANIPConn1")
            #expect(record.bootID == 7)
            #expect(record.firstSeen.timeIntervalSince1970 > 1_000_000_000)
            // The columns hold the text the URLs are written as.
            #expect(try await SQLiteShell.query(registry.path, "SELECT description_url, control_url FROM gateway")
                == "http://192.0.2.1:5000/rootDesc.xml|http://192.0.2.1:5000/ctl/IPConn")
        }
    }

    @Test("A gateway is found by the description URL it is at, and by one it was at before")
    func gatewayByDescriptionURL() async throws {
        try await withTemporaryDirectory { directory in
            let (registry, gatewayID, _) = try Self.seeded(in: directory)
            let now = try #require(try registry.gateway(id: gatewayID))
            #expect(try registry.gateway(atDescriptionURL: try #require(now.descriptionURL))?.id == gatewayID)
            try await SQLiteShell.execute(registry.path, "UPDATE gateway SET description_url = 'http://192.0.2.1:5001/rootDesc.xml'")
            #expect(try registry.gateway(atDescriptionURL: try #require(now.descriptionURL))?.id == gatewayID)
            #expect(try registry.gateway(atDescriptionURL: GatewayURL(host: IPv4Address(192, 0, 2, 9), port: 80, target: "/")) == nil)
        }
    }

    /// A bad value written into a seeded registry, the read that meets it, and what the error names.
    struct Case: Sendable, CustomTestStringConvertible {
        var sql: String
        var read: @Sendable (Registry, Int64, Int64) throws -> Void
        var names: String
        var testDescription: String { sql }
    }

    static let cases: [Case] = [
        Case(sql: "UPDATE gateway SET control_url = 'http://router.example/ctl'", read: { r, _, _ in _ = try r.gateways() },
             names: "gateway 1's control_url does not decode"),
        Case(sql: "UPDATE gateway SET description_url = 'ftp://192.0.2.1/rootDesc.xml'", read: { r, id, _ in _ = try r.gateway(id: id) },
             names: "gateway 1's description_url does not decode"),
        Case(sql: "UPDATE gateway SET service_type = 'urn:example:service:Toaster:1'", read: { r, _, _ in _ = try r.resolveGateway(nil) },
             names: "gateway 1's service_type does not decode"),
        Case(sql: "UPDATE gateway SET last_seen = 'yesterday'", read: { r, _, _ in _ = try r.gateways() },
             names: "gateway 1's last_seen does not decode"),
        Case(sql: "UPDATE gateway SET boot_id = -1", read: { r, _, _ in _ = try r.gateways() },
             names: "gateway 1's boot_id does not decode"),
        Case(sql: "PRAGMA ignore_check_constraints = 1; UPDATE declared_mapping SET protocol = 'SCTP'",
             read: { r, id, _ in _ = try r.declarations(gatewayID: id) }, names: "a mapping declared on gateway 1's protocol does not decode"),
        Case(sql: "UPDATE declared_mapping SET internal_client = 'the printer'", read: { r, _, _ in _ = try r.allDeclarations() },
             names: "a mapping declared on gateway 1's internal_client does not decode"),
        Case(sql: "UPDATE operation SET action = 'FrobnicatePortMapping'", read: { r, id, _ in _ = try r.unresolvedOperations(gatewayID: id) },
             names: "operation 1's action does not decode"),
        Case(sql: "UPDATE operation SET outcome = 'maybe'",
             read: { r, _, revision in _ = try r.operations(revision: revision) }, names: "operation 1's outcome does not decode"),
        Case(sql: "UPDATE operation SET arguments = '{\"externalPort\": \"many\"}'", read: { r, id, _ in _ = try r.unresolvedOperations(gatewayID: id) },
             names: "operation 1's arguments does not decode"),
        Case(sql: "UPDATE owned_mapping SET protocol = 'ICMP'", read: { r, id, _ in _ = try r.ownedKeys(gatewayID: id) },
             names: "a mapping owned on gateway 1's protocol does not decode"),
        Case(sql: "UPDATE owned_mapping SET external_port = 70000", read: { r, id, _ in _ = try r.ownedKeys(gatewayID: id) },
             names: "a mapping owned on gateway 1's external_port does not decode"),
        Case(sql: "UPDATE observation SET entries = 'not json'", read: { r, id, _ in _ = try r.lastObservation(gatewayID: id) },
             names: "observation 1's entries does not decode"),
        Case(sql: "UPDATE revision SET changes = '[{\"kind\": \"teleported\"}]'", read: { r, _, revision in try r.completeRevision(revision, adding: [], summary: "x") },
             names: "revision 1's changes does not decode"),
        Case(sql: "PRAGMA ignore_check_constraints = 1; UPDATE revision SET actor = 'cron'", read: { r, _, _ in _ = try r.history(limit: 10) },
             names: "revision 1 does not decode"),
    ]

    @Test("A value that does not fit its column is a \"registry damaged\" error naming the row and the column", arguments: cases)
    func undecodableValueIsCorrupt(_ bad: Case) async throws {
        try await withTemporaryDirectory { directory in
            let (registry, gatewayID, revision) = try Self.seeded(in: directory)
            try bad.read(registry, gatewayID, revision)
            try await SQLiteShell.execute(registry.path, bad.sql)
            let error = #expect(throws: RegistryError.self) { try bad.read(registry, gatewayID, revision) }
            #expect(error?.kind == .corrupt)
            #expect(error?.message == "the registry is damaged; \(registry.path): \(bad.names).", "\(String(describing: error))")
        }
    }

    @Test("Changes that do not decode are not overwritten when a revision is completed")
    func undecodableChangesAreKept() async throws {
        try await withTemporaryDirectory { directory in
            let (registry, _, revision) = try Self.seeded(in: directory)
            try await SQLiteShell.execute(registry.path, "UPDATE revision SET changes = '{'")
            #expect(throws: RegistryError.self) { try registry.completeRevision(revision, adding: [Change(.added, nil, "x")], summary: "s") }
            #expect(try await SQLiteShell.query(registry.path, "SELECT changes FROM revision") == "{")
        }
    }
}
