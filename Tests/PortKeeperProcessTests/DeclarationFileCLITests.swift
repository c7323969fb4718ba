import Foundation
import IGDTestSupport
import Testing

/// `apply -f`, `plan -f` and `export` as a user runs them, against a fake gateway.
@Suite("Declaration file: export, plan -f, apply -f")
struct DeclarationFileCLITests {
    func write(_ text: String, in registry: ScratchRegistry, name: String = "ports.yaml") throws -> String {
        let path = registry.directory + "/" + name
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("export then apply -f of what it wrote changes nothing: no revision, no request that writes")
    func exportApplyIsANoOp() async throws {
        try await withSeededRegistry("export-apply") { registry, gateway in
            let exported = try await registry.portkeeper(["export"])
            try exported.check(["export"])
            #expect(exported.stdout.contains("port: 9000/tcp"), "\(exported.stdout)")
            #expect(exported.stdout.contains("to: \"192.168.1.50:9011\""), "\(exported.stdout)")
            #expect(exported.stdout.contains("allow-remote-client: true"), "\(exported.stdout)")
            let file = try write(exported.stdout, in: registry)
            let revisions = try await registry.history().count
            let adds = gateway.actionCount("AddPortMapping")

            let applied = try await registry.portkeeper(["apply", "-f", file])
            #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
            #expect(applied.stdout.contains("already matches"), "\(applied.stdout)")
            #expect(try await registry.history().count == revisions)
            #expect(gateway.actionCount("AddPortMapping") == adds)
            #expect(gateway.actionCount("DeletePortMapping") == 0)
        }
    }

    @Test("plan -f shows the declaration changes and the gateway changes, changing nothing; apply -f makes them as one revision, rollback undoes it")
    func planApplyRollback() async throws {
        try await withSeededRegistry("plan-apply") { registry, gateway in
            let file = try write("""
                mappings:
                  - port: 9000/tcp
                    description: renamed
                  - port: 7000/tcp
                    to: :7070
                """, in: registry)
            let before = registry.files()
            let revisions = try await registry.history()

            let plan = try await registry.portkeeper(["plan", "-f", file, "--exit-code"])
            #expect(plan.status == 2, "\(plan.stdout)\(plan.stderr)")
            #expect(plan.stdout.contains("declare    declared      7000/tcp → this host:7070"), "\(plan.stdout)")
            #expect(plan.stdout.contains("declare    undeclared    9001/udp"), "\(plan.stdout)")
            #expect(plan.stdout.contains("+ add      7000/tcp"), "\(plan.stdout)")
            #expect(plan.stdout.contains("- delete   9001/udp  192.168.1.50:9011 'game' (no longer declared)"), "\(plan.stdout)")
            #expect(registry.files() == before, "plan -f changed the registry")
            #expect(gateway.actionCount("AddPortMapping") == 2 && gateway.actionCount("DeletePortMapping") == 0)

            let applied = try await registry.portkeeper(["apply", "-f", file])
            #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
            let after = try await registry.history()
            #expect(after.count == revisions.count + 1, "apply is one revision: \(after.map(\.summary))")
            #expect(after.first?.command.contains("apply") == true)
            #expect(Set(gateway.mappings.map { "\($0.externalPort)/\($0.protocol.lowercased()) \($0.internalPort) \($0.description)" })
                    == ["9000/tcp 9000 renamed", "7000/tcp 7070 portkeeper"])

            let rollback = try await registry.portkeeper(["rollback", String(revisions[0].revision)])
            #expect(rollback.status == 0, "\(rollback.stdout)\(rollback.stderr)")
            #expect(Set(gateway.mappings.map { "\($0.externalPort)/\($0.protocol.lowercased()) \($0.description)" })
                    == ["9000/tcp seed", "9001/udp game"])
        }
    }

    @Test("a file with an error changes nothing and says where, exit 64", arguments: [
        ("mappings:\n  - port: 9000/tcp\n  - port: 70000/udp\n", "ports.yaml:3: port: external port '70000' is not a number from 1 to 65535"),
        ("mappings:\n  - port: 9000/tcp\n    to: 198.51.100.9\n", "ports.yaml:2: to: 198.51.100.9 is on none of this machine's subnets"),
        ("mappings:\n  - port: 9000/tcp\n  mistake\n", "ports.yaml:4: not valid YAML: could not find expected ':'"),
    ])
    func badFile(text: String, expected: String) async throws {
        try await withSeededRegistry("bad-file") { registry, gateway in
            let file = try write(text, in: registry)
            let before = registry.files()
            let adds = gateway.actionCount("AddPortMapping")
            for command in ["apply", "plan"] {
                let result = try await registry.portkeeper([command, "-f", file])
                expectOneLineRefusal(result, saying: expected, [command], status: 64)
            }
            #expect(registry.files() == before)
            #expect(gateway.actionCount("AddPortMapping") == adds)
            #expect(gateway.actionCount("DeletePortMapping") == 0)
        }
    }
}

/// Commands that only read the registry never create one.
@Suite("Read-only commands and a registry that is not there")
struct ReadOnlyCommandTests {
    @Test("mappings, history, gateways and export on a --db that names no file: one line, exit 1, nothing created", arguments: [
        ["mappings"], ["history"], ["gateways"], ["export"], ["mappings", "--json"],
    ])
    func noRegistryIsNotCreated(arguments: [String]) async throws {
        let registry = try ScratchRegistry("read-only")
        defer { registry.remove() }
        let missing = registry.directory + "/typo/registry.sqlite"
        let result = try await PortKeeperCLI.run(arguments + ["--db", missing], timeout: .seconds(60))
        expectOneLineRefusal(result, saying: "there is no registry at \(missing)", arguments)
        #expect(!FileManager.default.fileExists(atPath: registry.directory + "/typo"), "a directory was created")
    }
}
