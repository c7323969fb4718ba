import Foundation
import IGDTestSupport
import Testing

/// Declare, reconcile, reboot, restore, prune, roll back: against the real miniupnpd.
@Suite("Lab: reconcile", .serialized, labEnabled)
struct LabReconcileTests {
    struct Revision: Decodable {
        typealias Change = LabChange
        var revision: Int
        var command: String
        var actor: String
        var changes: [Change]
    }

    struct PlanOutput: Decodable {
        struct Operation: Decodable { var kind: String; var status: String }
        var dryRun: Bool
        var inSync: Bool?
        var operations: [Operation]
        var foreign: [ListedMapping]
        var add: [Operation] { operations.filter { $0.kind == "add" } }
    }

    @Test("declare three, reconcile, reboot, restore, leave a foreign entry alone, prune it, roll back", arguments: LabGatewayTests.profiles)
    func lifecycle(profile: LabProfile) async throws {
        try await withLab(profile) { lab in
            let server = try lab.startBackground(on: .lan, ["socat", "TCP-LISTEN:9001,reuseaddr,fork", "SYSTEM:echo declared-and-kept"])
            defer { _ = server.terminate() }

            // Declare three mappings without applying: the gateway is found and recorded on the way.
            for arguments in [["9001/tcp", "--description", "web"], ["9002/UDP", "--to", ":9012", "--description", "game"],
                              ["9003/tcp", "--to", "\(Lab.lanClient):9013", "--description", "a<b & \"c\""]] {
                let added = try await lab.portkeeper(["add"] + arguments + ["--no-apply"])
                #expect(added.status == 0, "\(added.stderr)")
            }
            #expect(try await lab.upnpcList().isEmpty)

            let first = try await lab.portkeeper(["reconcile"])
            #expect(first.status == 0, "\(first.stderr)")
            let afterFirst = try await lab.upnpcList()
            #expect(Set(afterFirst.map(\.externalPort)) == [9001, 9002, 9003])
            #expect(afterFirst.first { $0.externalPort == 9002 }?.internalPort == 9012)
            #expect(afterFirst.first { $0.externalPort == 9002 }?.proto == "UDP")
            #expect(afterFirst.allSatisfy { $0.internalClient == Lab.lanClient })
            #expect(try await lab.connectFromOutside(port: 9001)?.contains("declared-and-kept") == true)

            // In sync now: another reconcile changes nothing and records no revision.
            let before = try decode([Revision].self, "revisions", try await lab.portkeeper(["history", "--json"])).count
            let idle = try await lab.portkeeper(["reconcile"])
            #expect(idle.status == 0, "\(idle.stderr)")
            #expect(try decode([Revision].self, "revisions", try await lab.portkeeper(["history", "--json"])).count == before)

            // The router reboots and forgets everything.
            try await lab.reboot()
            #expect(try await lab.upnpcList().isEmpty)
            let plan = try await lab.portkeeper(["plan", "--exit-code"])
            #expect(plan.status == 2, "\(plan.stderr)")
            #expect(plan.stdout.contains("3 to add"))
            let planJSON = try JSONDecoder().decode(PlanOutput.self, from: Data(try await lab.portkeeper(["plan", "--json"]).stdout.utf8))
            #expect(planJSON.add.count == 3)
            #expect(planJSON.dryRun && planJSON.operations.allSatisfy { $0.status == "planned" })
            #expect(planJSON.inSync == false)

            let restore = try await lab.portkeeper(["reconcile"])
            #expect(restore.status == 0, "\(restore.stderr)")
            #expect(Set(try await lab.upnpcList().map(\.externalPort)) == [9001, 9002, 9003])
            #expect(try await lab.connectFromOutside(port: 9001)?.contains("declared-and-kept") == true)
            #expect(try await lab.portkeeper(["plan", "--exit-code"]).status == 0)

            // Another program's entry is left alone...
            try await lab.run(on: .lan, ["upnpc", "-u", Lab.descriptionURL, "-e", "console", "-a", "192.168.77.50", "9100", "9100", "TCP"]).check()
            #expect(try await lab.portkeeper(["reconcile"]).status == 0)
            #expect(try await lab.upnpcList().contains { $0.externalPort == 9100 })
            let withForeign = try JSONDecoder().decode(PlanOutput.self, from: Data(try await lab.portkeeper(["plan", "--json"]).stdout.utf8))
            #expect(withForeign.foreign.map(\.externalPort) == [9100])

            // ...until --prune, and a rollback brings it back.
            let pruned = try await lab.portkeeper(["reconcile", "--prune"])
            #expect(pruned.status == 0, "\(pruned.stderr)")
            #expect(try await lab.upnpcList().contains { $0.externalPort == 9100 } == false)
            let history = try decode([Revision].self, "revisions", try await lab.portkeeper(["history", "--json"]))
            let pruneRevision = try #require(history.first { $0.command.contains("--prune") })
            let rollback = try await lab.portkeeper(["rollback", String(pruneRevision.revision - 1)])
            #expect(rollback.status == 0, "\(rollback.stderr)")
            let restored = try await lab.upnpcList()
            #expect(restored.first { $0.externalPort == 9100 }?.internalClient == "192.168.77.50")
            #expect(Set(restored.map(\.externalPort)) == [9001, 9002, 9003, 9100])

            // History tells all of it, newest first.
            let told = try decode([Revision].self, "revisions", try await lab.portkeeper(["history", "--json"]))
            let kinds = told.flatMap { $0.changes.map(\.kind) }
            for kind in ["declared", "added", "found-missing", "deleted", "rolled-back"] {
                #expect(kinds.contains(kind), "history lacks \(kind)")
            }
            #expect(told.map(\.revision) == told.map(\.revision).sorted(by: >))
            #expect(told.first?.command.contains("rollback") == true)
            #expect(told.contains { $0.changes.contains { $0.kind == "found-missing" && $0.detail.contains("rebooted") } })
            #expect(told.allSatisfy { $0.actor == "cli" })
            #expect(try await lab.portkeeper(["history"]).stdout.contains("found-missing"))
        }
    }

    @Test("a port upnpc holds for another client: the reconcile exits 3 and says so on stderr; --force takes the port, exit 0")
    func conflictExitsThree() async throws {
        try await withLab(.v2) { lab in
            try await lab.run(on: .lan, ["upnpc", "-u", Lab.descriptionURL, "-e", "console", "-a", "192.168.77.50", "9100", "9100", "TCP"]).check()
            let added = try await lab.portkeeper(["add", "9100/tcp", "--description", "mine"])
            #expect(added.status == 3, "exit \(added.status): \(added.stderr)")
            let lines = added.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(added.stderr)")
            #expect(lines.first?.contains("9100/tcp on ") == true && lines.first?.contains("is held by another client, 192.168.77.50:9100 'console'") == true,
                    "\(added.stderr)")

            let again = try await lab.portkeeper(["reconcile", "--json"])
            #expect(again.status == 3, "\(again.stderr)")
            #expect(again.stdout.contains("\"inSync\" : false"), "\(again.stdout)")
            #expect(try await lab.upnpcList().first { $0.externalPort == 9100 }?.internalClient == "192.168.77.50")

            let forced = try await lab.portkeeper(["reconcile", "--force"])
            #expect(forced.status == 0, "\(forced.stderr)")
            let taken = try await lab.upnpcList().first { $0.externalPort == 9100 }
            #expect(taken?.internalClient == Lab.lanClient && taken?.description == "mine", "\(String(describing: taken))")
        }
    }

    @Test("this host's address changes (DHCP): its mappings follow, others pointing at the old address are reported")
    func hostAddressChanges() async throws {
        try await withLab(.v2) { lab in
            #expect(try await lab.portkeeper(["add", "9001/tcp", "--description", "follows me"]).status == 0)
            try await lab.portkeeper(["add", "9002/tcp", "--to", "\(Lab.lanClient):9002", "--description", "pinned"]).check()
            // Another program's mapping for this host, by address.
            try await lab.run(on: .lan, ["upnpc", "-u", Lab.descriptionURL, "-e", "other", "-a", Lab.lanClient, "9003", "9003", "TCP"]).check()
            #expect(try await lab.upnpcList().allSatisfy { $0.internalClient == Lab.lanClient })

            // DHCP gives this host another address.
            let newAddress = "192.168.77.3"
            try await lab.run(on: .lan, ["ip", "addr", "del", "\(Lab.lanClient)/24", "dev", "eth0"]).check()
            try await lab.run(on: .lan, ["ip", "addr", "add", "\(newAddress)/24", "dev", "eth0"]).check()
            try await lab.run(on: .lan, ["ip", "route", "replace", "default", "via", Lab.lanGateway]).check()

            let plan = try await lab.portkeeper(["plan", "--exit-code"])
            #expect(plan.status == 2, "\(plan.stdout)\(plan.stderr)")
            #expect(plan.stdout.contains("this host is \(newAddress)"))
            let reconcile = try await lab.portkeeper(["reconcile"])
            #expect(reconcile.status == 0, "\(reconcile.stdout)\(reconcile.stderr)")
            #expect(reconcile.stdout.contains("host-address-changed"))
            #expect(reconcile.stdout.contains("9003/tcp") && reconcile.stdout.contains("still points at this host's old address \(Lab.lanClient)"))
            let table = try await lab.upnpcList()
            #expect(table.first { $0.externalPort == 9001 }?.internalClient == newAddress)
            #expect(table.first { $0.externalPort == 9002 }?.internalClient == Lab.lanClient)
            #expect(table.first { $0.externalPort == 9003 }?.internalClient == Lab.lanClient)
            let history = try decode([Revision].self, "revisions", try await lab.portkeeper(["history", "--json", "--limit", "1"]))
            #expect(history.first?.changes.contains { $0.kind == "host-address-changed" } == true)
            #expect(try await lab.portkeeper(["plan", "--exit-code"]).status == 0)
        }
    }

    @Test("miniupnpd keeps 64 bytes of a description: learned at the first write, so the mapping converges; a rename still reaches it")
    func descriptionTruncation() async throws {
        try await withLab(.v2) { lab in
            let long = String(repeating: "portkeeper ", count: 10)
            let added = try await lab.portkeeper(["add", "9001/tcp", "--description", long])
            #expect(added.status == 0, "\(added.stderr)")
            let plan = try await lab.portkeeper(["plan", "--exit-code"])
            #expect(plan.status == 0, "\(plan.stdout)")
            struct Gateway: Decodable { var descriptionLimit: Int? }
            let gateways = try decode([Gateway].self, "gateways", try await lab.portkeeper(["gateways", "--json"]))
            #expect(gateways.first?.descriptionLimit == 64)
            let kept = try await lab.upnpcList()
            // (upnpc prints what follows the 64 bytes in its own buffer, so compare the start.)
            #expect(kept.first?.description.hasPrefix(String(long.prefix(64))) == true)
            // "portkeeper" is a prefix of what the router holds, but not a cut at its limit: sent.
            let renamed = try await lab.portkeeper(["add", "9001/tcp", "--description", "portkeeper"])
            #expect(renamed.status == 0, "\(renamed.stderr)")
            let after = try await lab.upnpcList()
            #expect(after.first?.description.hasPrefix("portkeeper") == true)
            #expect(after.first?.description.hasPrefix("portkeeper portkeeper") == false)
            #expect(try await lab.portkeeper(["plan", "--exit-code"]).status == 0)
        }
    }
}
