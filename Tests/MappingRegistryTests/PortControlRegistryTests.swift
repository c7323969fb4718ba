import Foundation
import GRDB
import IGDProtocol
import IGDTestSupport
import Migrations
import PortKeeperModel
import Testing
@testable import MappingRegistry

/// What migration 0003 adds for NAT-PMP and PCP: gateways without UPnP, one gateway over
/// several protocols, the nonce kept before the first request, grants updated in place.
@Suite struct PortControlRegistryTests {
    static let server = IPv4Address(192, 0, 2, 1)
    static let key = MappingKey(protocol: .tcp, externalPort: 7001)
    static let nonce = "00112233445566778899aabb"

    @Test("A registry made before 0003 opens, migrates, and its UPnP gateway and declarations read back unchanged")
    func olderRegistryMigrates() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/registry.sqlite"
            // A registry as the previous release left it: migrations 0001 and 0002 only.
            var older = DatabaseMigrator()
            for migration in EmbeddedMigrations.all where migration.identifier < "0003" {
                older.registerMigration(migration.identifier) { db in try db.execute(sql: migration.sql) }
            }
            do {
                let pool = try DatabasePool(path: path)
                try older.migrate(pool)
                try pool.write { db in
                    try db.execute(sql: """
                        INSERT INTO gateway (udn, friendly_name, description_url, service_type, control_url, first_seen, last_seen)
                        VALUES ('uuid:old', 'Old', 'http://192.0.2.1:5000/rootDesc.xml', 'urn:schemas-upnp-org:service:WANIPConnection:2',
                                'http://192.0.2.1:5000/ctl/IPConn', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
                        INSERT INTO declared_mapping (gateway_id, protocol, external_port, internal_port, description, lease_duration)
                        VALUES (1, 'TCP', 8080, 80, 'web', 0);
                        """)
                }
                try pool.close()
            }
            let registry = try Registry(path: path)
            let gateway = try #require(try registry.gateways().first)
            #expect(gateway.udn == "uuid:old" && gateway.service?.controlURL.description == "http://192.0.2.1:5000/ctl/IPConn")
            #expect(gateway.protocols == [.upnp] && gateway.mappingProtocol.0 == .upnp && gateway.portControlServer == nil)
            #expect(try registry.declarations(gatewayID: gateway.id).map(\.key.externalPort) == [8080])
            #expect(try registry.portControlMappings(gatewayID: gateway.id).isEmpty)
        }
    }

    @Test("A PCP-only gateway is recorded with an identity of its own and no UPnP fields; seen again it is the same gateway")
    func portControlOnlyGateway() async throws {
        try await withTemporaryDirectory { directory in
            let registry = try Registry(path: directory + "/registry.sqlite")
            let observed = ObservedPortControl(server: Self.server, speaksPCP: true, speaksNATPMP: true, hardwareAddress: "02:AA:BB:CC:DD:EE",
                                               externalAddress: ExternalAddress(reported: "203.0.113.9"))
            let first = try registry.recordPortControl(observed).record
            #expect(first.udn == "pcp:192.0.2.1/02:aa:bb:cc:dd:ee")
            #expect(first.descriptionURL == nil && first.controlURL == nil && first.service == nil)
            #expect(first.protocols == [.pcp, .natPMP] && first.mappingProtocol.0 == .pcp)
            #expect(first.externalAddress == "203.0.113.9" && first.location == "192.0.2.1:5351")
            let again = try registry.recordPortControl(observed).record
            #expect(try again.id == first.id && registry.gateways().count == 1)
        }
    }

    @Test("PCP seen at a UPnP gateway's address is the same gateway: UPnP stays preferred until the user chooses")
    func oneGatewayOverSeveralProtocols() async throws {
        try await withTemporaryDirectory { directory in
            let (registry, gatewayID, _) = try UndecodableRowTests.seeded(in: directory)
            let merged = try registry.recordPortControl(ObservedPortControl(server: Self.server, speaksPCP: true, speaksNATPMP: false)).record
            #expect(try merged.id == gatewayID && registry.gateways().count == 1)
            #expect(merged.protocols == [.upnp, .pcp] && merged.mappingProtocol.0 == .upnp)
            try registry.declareProtocol(.pcp, gatewayID: gatewayID)
            let chosen = try #require(try registry.gateway(id: gatewayID))
            #expect(chosen.mappingProtocol.0 == .pcp && chosen.declaredProtocol == .pcp)
        }
    }

    @Test("The nonce is written before the first request and kept for every later one; a grant updates the row in place; a restart marks it lost")
    func nonceAndGrants() async throws {
        try await withTemporaryDirectory { directory in
            let registry = try Registry(path: directory + "/registry.sqlite")
            let id = try registry.recordPortControl(ObservedPortControl(server: Self.server, speaksPCP: true, speaksNATPMP: true)).record.id
            let client = IPv4Address(192, 0, 2, 20)
            let first = try registry.preparePortControlMapping(gatewayID: id, key: Self.key, via: .pcp, newNonce: Self.nonce, internalClient: client, internalPort: 7001)
            #expect(first.nonce == Self.nonce && first.granted == nil)
            // Asked again (a retry, a renewal, another target): the first nonce stays.
            let again = try registry.preparePortControlMapping(gatewayID: id, key: Self.key, via: .pcp, newNonce: "ffffffffffffffffffffffff",
                                                               internalClient: client, internalPort: 7002)
            #expect(again.nonce == Self.nonce && again.internalPort == 7002)
            let at = Date(timeIntervalSince1970: 1_800_000_000)
            try registry.recordGrant(gatewayID: id, key: Self.key, via: .pcp, externalPort: 40001, externalAddress: IPv4Address(203, 0, 113, 9), lifetime: 120, at: at)
            let granted = try #require(try registry.portControlMapping(gatewayID: id, key: Self.key))
            #expect(granted.assignedExternalPort == 40001 && granted.lifetime == 120)
            #expect(granted.expires.map { Int($0.timeIntervalSince(at)) } == 120)
            let size = try await SQLiteShell.query(registry.path, "SELECT count(*) FROM port_control_mapping")
            #expect(size == "1")
            try registry.markPortControlLost(gatewayID: id)
            let lost = try #require(try registry.portControlMapping(gatewayID: id, key: Self.key))
            #expect(lost.granted == nil && lost.expires == nil && lost.nonce == Self.nonce)
            try registry.forgetPortControlMapping(gatewayID: id, key: Self.key)
            #expect(try registry.portControlMapping(gatewayID: id, key: Self.key) == nil)
        }
    }

    @Test("A nonce that is not 24 hexadecimal digits is refused before anything is written")
    func badNonceRefused() async throws {
        try await withTemporaryDirectory { directory in
            let registry = try Registry(path: directory + "/registry.sqlite")
            let id = try registry.recordPortControl(ObservedPortControl(server: Self.server, speaksPCP: true, speaksNATPMP: false)).record.id
            #expect(throws: RegistryError.self) {
                try registry.preparePortControlMapping(gatewayID: id, key: Self.key, via: .pcp, newNonce: "xyz", internalClient: Self.server, internalPort: 1)
            }
            #expect(try registry.portControlMappings(gatewayID: id).isEmpty)
        }
    }
}
