import IGDProtocol
import MappingRegistry
@testable import PortKeeper
import Testing

/// The planner is a pure function of (declared, actual, ownership): each row is a situation
/// and what the plan must say about it.
@Suite("Planner")
struct PlannerTests {
    static let host = IPv4Address(192, 168, 77, 2)
    static let web = MappingKey(protocol: .tcp, externalPort: 8080)
    static let dns = MappingKey(protocol: .udp, externalPort: 53)

    static func declared(_ key: MappingKey, client: InternalClient = .thisHost, port: UInt16? = nil, description: String = "web", lease: UInt32 = 0, enabled: Bool = true) -> DeclaredMapping {
        DeclaredMapping(key: key, client: client, internalPort: port ?? key.externalPort, description: description, leaseDuration: lease, enabled: enabled)
    }

    static func entry(_ key: MappingKey, client: String = "192.168.77.2", port: UInt16? = nil, description: String = "web", lease: UInt32 = 0, enabled: Bool = true) -> PortMappingEntry {
        PortMappingEntry(remoteHost: key.remoteHost, externalPort: key.externalPort, protocol: key.protocol, internalPort: port ?? key.externalPort,
                         internalClient: client, enabled: enabled, description: description, leaseDuration: lease)
    }

    struct Row: CustomTestStringConvertible, Sendable {
        var name: String
        var declared: [DeclaredMapping]
        var actual: [PortMappingEntry]
        var owned: Set<MappingKey>
        var options = Planner.Options()
        var descriptionLimit: Int? = nil
        var adds: [MappingKey] = []
        var updates: [MappingKey] = []
        var deletes: [MappingKey] = []
        var conflicts: [MappingKey] = []
        var replacements: [MappingKey] = []
        var foreign: [MappingKey] = []
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(name: "nothing declared, nothing there", declared: [], actual: [], owned: []),
        Row(name: "declared and missing: add", declared: [declared(web)], actual: [], owned: [], adds: [web]),
        Row(name: "declared and present: in sync", declared: [declared(web)], actual: [entry(web)], owned: [web]),
        Row(name: "present, same client, not recorded as ours: in sync, not a conflict", declared: [declared(web)], actual: [entry(web)], owned: []),
        Row(name: "IGDv2 turned lease 0 into 604800: in sync", declared: [declared(web)], actual: [entry(web, lease: 604800)], owned: [web]),
        Row(name: "lease counting down: in sync", declared: [declared(web, lease: 3600)], actual: [entry(web, lease: 1234)], owned: [web]),
        Row(name: "router truncated the description at its known limit: in sync", declared: [declared(web, description: "a long description of the web server")], actual: [entry(web, description: "a long desc")], owned: [web], descriptionLimit: 11),
        Row(name: "a shorter description that is a prefix of the new one: update", declared: [declared(web, description: "game, renamed")], actual: [entry(web, description: "game")], owned: [web], updates: [web]),
        Row(name: "a prefix, but the limit is not known yet: update once", declared: [declared(web, description: "a long description of the web server")], actual: [entry(web, description: "a long desc")], owned: [web], updates: [web]),
        Row(name: "description changed: update", declared: [declared(web, description: "new")], actual: [entry(web, description: "old")], owned: [web], updates: [web]),
        Row(name: "empty description on the gateway: update", declared: [declared(web)], actual: [entry(web, description: "")], owned: [web], updates: [web]),
        Row(name: "internal port wrong: update", declared: [declared(web, port: 80)], actual: [entry(web, port: 8080)], owned: [web], updates: [web]),
        Row(name: "disabled on the gateway: update", declared: [declared(web)], actual: [entry(web, enabled: false)], owned: [web], updates: [web]),
        Row(name: "ours, pointing at our old address: update (moved)", declared: [declared(web)], actual: [entry(web, client: "192.168.77.9")], owned: [web], updates: [web]),
        Row(name: "held by another client: conflict", declared: [declared(web)], actual: [entry(web, client: "192.168.77.50")], owned: [], conflicts: [web]),
        Row(name: "held by another client, --force: replacement", declared: [declared(web)], actual: [entry(web, client: "192.168.77.50")], owned: [], options: .init(force: true), replacements: [web]),
        Row(name: "ours and no longer declared: delete", declared: [], actual: [entry(web)], owned: [web], deletes: [web]),
        Row(name: "not ours and not declared: foreign, left alone", declared: [], actual: [entry(web, client: "192.168.77.50")], owned: [], foreign: [web]),
        Row(name: "not ours and not declared, --prune: delete", declared: [], actual: [entry(web, client: "192.168.77.50")], owned: [], options: .init(prune: true), deletes: [web]),
        Row(name: "the seed router's port-80 entry is foreign", declared: [declared(dns)], actual: [entry(MappingKey(protocol: .tcp, externalPort: 80), client: "", description: "Webサーバ (HTTP)", enabled: false)], owned: [], adds: [dns], foreign: [MappingKey(protocol: .tcp, externalPort: 80)]),
        Row(name: "an entry with a client that is not an address holds nothing: add, no conflict", declared: [declared(web)], actual: [entry(web, client: "x.y")], owned: [], adds: [web]),
        Row(name: "an entry with a client that is not an address is never deleted, even ours or with --prune", declared: [], actual: [entry(web, client: "198.51.100.2&amp;"), entry(dns, client: "", enabled: true)], owned: [web], options: .init(prune: true)),
        Row(name: "same port, other protocol is another mapping", declared: [declared(web)], actual: [entry(MappingKey(protocol: .udp, externalPort: 8080), client: "192.168.77.50")], owned: [], adds: [web], foreign: [MappingKey(protocol: .udp, externalPort: 8080)]),
        Row(name: "ours, lost after a reboot: add again", declared: [declared(web), declared(dns)], actual: [], owned: [web, dns], adds: [dns, web]),
    ]

    @Test(arguments: rows)
    func plan(_ row: Row) {
        let plan = Planner.plan(declared: row.declared, actual: row.actual, owned: row.owned, hostAddress: Self.host,
                                descriptionLimit: row.descriptionLimit, options: row.options)
        #expect(plan.adds.map(\.declared.key) == row.adds)
        #expect(plan.updates.map(\.declared.key) == row.updates)
        #expect(plan.deletes.map { MappingKey($0.current) } == row.deletes)
        #expect(plan.conflicts.map(\.declared.key) == row.conflicts)
        #expect(plan.replacements.map(\.declared.key) == row.replacements)
        #expect(plan.foreign.map { MappingKey($0) } == row.foreign)
        #expect(plan.isInSync == (row.adds + row.updates + row.deletes + row.conflicts + row.replacements).isEmpty)
    }

    @Test func thisHostResolvesToTheHostAddressAndExplicitClientsStay() {
        let other = IPv4Address(192, 168, 77, 40)
        let plan = Planner.plan(declared: [Self.declared(Self.web), Self.declared(Self.dns, client: .address(other))], actual: [], owned: [], hostAddress: Self.host)
        #expect(plan.adds.first { $0.declared.key == Self.web }?.entry.internalClient == "192.168.77.2")
        #expect(plan.adds.first { $0.declared.key == Self.dns }?.entry.internalClient == "192.168.77.40")
    }

    @Test func everyUpdateDeletesFirst() throws {
        // Gateways refuse to move a mapping to another client, and miniupnpd keeps the old
        // description when an entry is added over: an update is a delete and an add, one step.
        let current = Self.entry(Self.web, client: "192.168.77.9")
        let moved = Planner.plan(declared: [Self.declared(Self.web)], actual: [current], owned: [Self.web], hostAddress: Self.host)
        let update = try #require(moved.updates.first)
        let steps = Reconciliation.steps(moved, restoring: [], table: [current])
        #expect(steps.map(\.operations) == [[.delete(current, .moved), .add(update.entry, .updated, foreign: false)]])
        // One operation as the user sees it: an update from what the gateway had to what is declared.
        #expect(steps.map(\.planned) == [PlannedOperation(kind: .update, key: Self.web, before: MappingState(current), after: MappingState(update.entry),
                                                          reason: update.differences.joined(separator: ", "))])
        let renamed = Planner.plan(declared: [Self.declared(Self.web, description: "x")], actual: [Self.entry(Self.web)], owned: [Self.web], hostAddress: Self.host)
        #expect(Reconciliation.steps(renamed, restoring: [], table: []).map { $0.operations.map { if case .delete = $0 { "delete" } else { "add" } } } == [["delete", "add"]])
    }

    @Test func permanentLeasesOnlyAsksForLeaseZero() {
        let plan = Planner.plan(declared: [Self.declared(Self.web, lease: 3600)], actual: [], owned: [], hostAddress: Self.host, permanentLeasesOnly: true)
        #expect(plan.adds.first?.entry.leaseDuration == 0)
    }

    @Test func afterOneWriteThePlanIsInSync() {
        // What a gateway does to an entry (lease 0 → 604800, description cut to 11 bytes)
        // must not make the planner write it again.
        let declared = [Self.declared(Self.web, description: "portkeeper web server", lease: 0)]
        let first = Planner.plan(declared: declared, actual: [], owned: [], hostAddress: Self.host)
        var written = first.adds[0].entry
        written.leaseDuration = 604800
        written.description = String(written.description.prefix(11))
        let limit = Planner.learnedDescriptionLimit(written: first.adds[0].entry.description, kept: written.description)
        #expect(limit == 11)
        let second = Planner.plan(declared: declared, actual: [written], owned: [Self.web], hostAddress: Self.host, descriptionLimit: limit)
        #expect(second.isInSync)
    }

    @Test("a lease is renewed at half its length, as measured by what the gateway says is left", arguments: [
        (UInt32(3600), UInt32(1000), true, Duration.zero),
        (UInt32(3600), UInt32(3000), false, Duration.seconds(1200)),
        (UInt32(0), UInt32(604_000), false, Duration.seconds(604_000 - 302_400)),
        (UInt32(0), UInt32(300_000), true, Duration.zero),
    ])
    func renewal(declaredLease: UInt32, remaining: UInt32, renew: Bool, due: Duration) {
        let plan = Planner.plan(declared: [Self.declared(Self.web, lease: declaredLease)], actual: [Self.entry(Self.web, lease: remaining)], owned: [Self.web], hostAddress: Self.host)
        #expect(plan.isInSync)
        #expect(plan.renewals.map(\.declared.key) == (renew ? [Self.web] : []))
        #expect(plan.hasWork == renew)
        #expect(Planner.renewalDue(declaredLease: declaredLease, current: Self.entry(Self.web, lease: remaining)) == due)
    }

    @Test func aPermanentMappingIsNeverRenewed() {
        #expect(Planner.renewalDue(declaredLease: 0, current: Self.entry(Self.web, lease: 0)) == nil)
        let plan = Planner.plan(declared: [Self.declared(Self.web)], actual: [Self.entry(Self.web, lease: 0)], owned: [Self.web], hostAddress: Self.host)
        #expect(!plan.hasWork)
    }
}
