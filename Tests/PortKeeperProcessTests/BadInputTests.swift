import Foundation
import IGDClient
import IGDProtocol
import IGDTestSupport
import PortKeeper
import Testing

/// §5: bad input is refused with one clear line on stderr and a non-zero exit, and leaves the
/// registry exactly as it was: the file's bytes, the -wal file's bytes, and what `mappings --json`
/// and `history --json` print.
///
/// Every test has its own registry in a fresh temporary directory and its own fake IGDv2 gateway
/// on loopback. The first command of each registry names the gateway by URL, so nothing here
/// ever searches the network.
@Suite("Bad input: refused in one line, registry unchanged")
struct BadInputTests {
    @Test("refused with one line; registry bytes, -wal bytes, mappings and history unchanged", arguments: BadInputTable.endToEnd)
    func refused(_ bad: BadInputTable.BadCase) async throws {
        try await withSeededRegistry("bad") { registry, gateway in
            let before = gateway.actionCounts
            try await expectRefusal(bad.arguments, on: registry, saying: bad.expected, byArgumentParser: bad.byArgumentParser)
            // Refused before anything was sent: no mapping was added or deleted.
            #expect(gateway.actionCount("AddPortMapping") == before["AddPortMapping", default: 0])
            #expect(gateway.actionCount("DeletePortMapping") == before["DeletePortMapping", default: 0])
        }
    }

    /// argv bytes that are not UTF-8 reach Swift as U+FFFD; `add` reads the raw argv and
    /// refuses them. A shell's printf makes the bytes (ProcessRunner only passes Strings).
    /// Two of the four byte sequences BadInputInProcessTests checks in-process.
    @Test("a description that is not UTF-8 in argv is refused in one line, nothing stored", arguments: [
        #"a\377b"#, #"\355\240\200 lone surrogate"#,
    ])
    func invalidUTF8Description(printfBytes: String) async throws {
        try await withSeededRegistry("utf8") { registry, gateway in
            let before = registry.files()
            let adds = gateway.actionCount("AddPortMapping")
            let script = #"exec "$0" add 8080/tcp --description "$(printf '"# + printfBytes + #"')" --db "$1""#
            let result = try await PortKeeperCLI.runThroughShell(script, [registry.path], takingTurns: true)
            expectOneLineRefusal(result, saying: "is not valid UTF-8", status: 64)
            #expect(registry.files() == before)
            #expect(gateway.actionCount("AddPortMapping") == adds)
        }
    }

    @Test("a --to host on this machine's own subnet is accepted without any flag")
    func clientOnTheLocalSubnetIsAccepted() async throws {
        let lan = try #require(BadInputTable.localLAN, "this machine has no IPv4 subnet with a broadcast address besides loopback")
        // A host of the subnet other than this machine, its network and its broadcast address.
        let host = [lan.network.value + 1, lan.network.value + 2].map(IPv4Address.init(value:)).first { $0 != lan.address }!
        try await withSeededRegistry("lanhost") { registry, _ in
            let result = try await registry.portkeeper(["add", "8082/tcp", "--to", "\(host):80", "--no-apply"], takingTurns: true)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try await registry.mappings().contains { $0.externalPort == 8082 && $0.internalClient == host.description })
        }
    }

    /// Re-adding a declared key with the same target is a redeclaration (a new description, a
    /// lease), accepted; with exactly the same values it is nothing at all.
    @Test("the same key with the same target is a redeclaration; exactly the same is no revision")
    func redeclaration() async throws {
        try await withSeededRegistry("redeclare") { registry, gateway in
            let revisions = try await registry.history().count

            let same = try await registry.portkeeper(["add", "9000/tcp", "--description", "seed", "--no-apply"], takingTurns: true)
            #expect(same.status == 0, "\(same.stderr)")
            #expect(same.stdout.contains("9000/tcp is already declared so"), "\(same.stdout)")
            #expect(try await registry.history().count == revisions)

            // The default target written out is the same target.
            let spelled = try await registry.portkeeper(["add", "9000/TCP", "--to", ":9000", "--description", "seed", "--no-apply"], takingTurns: true)
            #expect(spelled.status == 0, "\(spelled.stderr)")
            #expect(try await registry.history().count == revisions)

            let renamed = try await registry.portkeeper(["add", "9000/tcp", "--description", "new words", "--lease", "3600", "--no-apply"], takingTurns: true)
            #expect(renamed.status == 0, "\(renamed.stderr)")
            #expect(renamed.stderr.isEmpty, "\(renamed.stderr)")
            let history = try await registry.history()
            #expect(history.count == revisions + 1)
            #expect(history.first?.changes.contains { $0.kind == "redeclared" && $0.key?.description == "9000/tcp" } == true, "\(history.first as Any)")
            let declared = try await registry.mappings()
            let mapping = try #require(declared.first { $0.externalPort == 9000 })
            #expect(mapping.description == "new words")
            #expect(mapping.leaseDuration == 3600)
            #expect(mapping.internalClient == "this-host" && mapping.internalPort == 9000)
            #expect(declared.count == 2)

            let game = try await registry.portkeeper(["add", "9001/udp", "--to", "192.168.1.50:9011", "--allow-remote-client", "--description", "renamed game"], takingTurns: true)
            #expect(game.status == 0, "\(game.stderr)\n\(game.stdout)")
            #expect(gateway.mappings.contains { $0.externalPort == 9001 && $0.description == "renamed game" })
        }
    }

    // MARK: The registry file itself

    @Test("a --db that is not SQLite is refused and left byte-identical", arguments: [
        "hello, this is a shopping list\n- milk\n- eggs\n",
        String(repeating: "not a database, just text that goes on for a while\n", count: 100),
        "SQLite format 2\0" + String(repeating: "?", count: 200),
    ])
    func notADatabase(content: String) async throws {
        try await withGateway { gateway in
            let registry = try ScratchRegistry("notdb")
            defer { registry.remove() }
            try Data(content.utf8).write(to: URL(fileURLWithPath: registry.path))
            for arguments in [["mappings"], ["mappings", "--json"], ["history"], ["gateways"],
                              ["add", "8080/tcp", "--no-apply", "--gateway", gateway.descriptionURL],
                              ["reconcile", "--gateway", gateway.descriptionURL], ["rollback", "1"]] {
                let result = try await registry.portkeeper(arguments, takingTurns: true)
                expectOneLineRefusal(result, saying: "is not a portkeeper registry", arguments)
                #expect(FileManager.default.contents(atPath: registry.path) == Data(content.utf8), "\(arguments)")
                for suffix in ["-wal", "-shm"] {
                    #expect(!FileManager.default.fileExists(atPath: registry.path + suffix), "\(arguments) left \(suffix) behind")
                }
            }
            #expect(gateway.requests.isEmpty)
        }
    }

    @Test("an SQLite database of another program is refused and left byte-identical")
    func anotherProgramsDatabase() async throws {
        try await withGateway { gateway in
            let registry = try ScratchRegistry("otherdb")
            defer { registry.remove() }
            try await SQLiteShell.execute(registry.path, "CREATE TABLE recipe (name TEXT); INSERT INTO recipe VALUES ('soup')")
            let before = registry.files()
            for arguments in [["mappings"], ["add", "8080/tcp", "--no-apply", "--gateway", gateway.descriptionURL]] {
                let result = try await registry.portkeeper(arguments, takingTurns: true)
                expectOneLineRefusal(result, saying: "is an SQLite database of another program", arguments)
                #expect(registry.files() == before, "\(arguments)")
            }
        }
    }

    @Test("a --db written by a newer portkeeper is refused and left byte-identical")
    func newerVersion() async throws {
        try await withSeededRegistry("newer") { registry, gateway in
            let mappings = try await registry.portkeeper(["mappings", "--json"], takingTurns: true).stdout
            try await SQLiteShell.execute(registry.path, "INSERT INTO grdb_migrations (identifier) VALUES ('9999_future_change')")
            let before = registry.files()
            let addsBefore = gateway.actionCount("AddPortMapping")
            for arguments in [["mappings"], ["mappings", "--json"], ["history"], ["add", "8080/tcp", "--no-apply"], ["add", "8080/tcp"],
                              ["remove", "9000/tcp"], ["reconcile"], ["plan"], ["rollback", "1"]] {
                let result = try await registry.portkeeper(arguments, takingTurns: true)
                // Its own exit code, 78 (EX_CONFIG), for scripts to tell "upgrade" from other failures.
                expectOneLineRefusal(result, saying: "was written by a newer portkeeper (migration 9999_future_change unknown)", arguments, status: 78)
                #expect(registry.files() == before, "\(arguments) changed the registry")
            }
            #expect(gateway.actionCount("AddPortMapping") == addsBefore)
            // Taken back out, the registry is as it was.
            try await SQLiteShell.execute(registry.path, "DELETE FROM grdb_migrations WHERE identifier = '9999_future_change'")
            #expect(try await registry.portkeeper(["mappings", "--json"], takingTurns: true).stdout == mappings)
        }
    }

    @Test("a --db in a read-only directory that does not exist yet: refused, nothing created", .enabled(if: Immutable.works, "chattr +i is not available here"))
    func readOnlyDirectoryNewRegistry() async throws {
        try await withGateway { gateway in
            let registry = try ScratchRegistry("rodir-new")
            defer { registry.remove() }
            try await Immutable.set(registry.directory)
            defer { Immutable.clear(registry.directory) }
            // add would create it and cannot; mappings only reads, so it never tries to.
            for (arguments, expected) in [(["add", "8080/tcp", "--no-apply", "--gateway", gateway.descriptionURL], "read-only"),
                                          (["mappings"], "there is no registry at")] {
                let result = try await registry.portkeeper(arguments, takingTurns: true)
                expectOneLineRefusal(result, saying: expected, arguments)
            }
            #expect((try? FileManager.default.contentsOfDirectory(atPath: registry.directory)) == [])
            #expect(gateway.requests.isEmpty)
        }
    }

    @Test("an existing --db whose directory is read-only: refused, unchanged", .enabled(if: Immutable.works, "chattr +i is not available here"))
    func readOnlyDirectoryExistingRegistry() async throws {
        try await withSeededRegistry("rodir") { registry, gateway in
            let mappings = try await registry.portkeeper(["mappings", "--json"], takingTurns: true).stdout
            let history = try await registry.portkeeper(["history", "--json"], takingTurns: true).stdout
            let before = registry.files()
            let addsBefore = gateway.actionCount("AddPortMapping")
            try await Immutable.set(registry.directory)
            defer { Immutable.clear(registry.directory) }
            for arguments in [["add", "8080/tcp", "--no-apply"], ["add", "8080/tcp"], ["remove", "9000/tcp"], ["reconcile"]] {
                let result = try await registry.portkeeper(arguments, takingTurns: true)
                expectOneLineRefusal(result, saying: "read-only", arguments)
                #expect(registry.files() == before, "\(arguments) changed the registry")
            }
            #expect(gateway.actionCount("AddPortMapping") == addsBefore)
            Immutable.clear(registry.directory)
            #expect(try await registry.portkeeper(["mappings", "--json"], takingTurns: true).stdout == mappings)
            #expect(try await registry.portkeeper(["history", "--json"], takingTurns: true).stdout == history)
        }
    }

    @Test("a read-only --db file: refused, unchanged", .enabled(if: Immutable.works, "chattr +i is not available here"))
    func readOnlyFile() async throws {
        try await withSeededRegistry("rofile") { registry, gateway in
            let mappings = try await registry.portkeeper(["mappings", "--json"], takingTurns: true).stdout
            let history = try await registry.portkeeper(["history", "--json"], takingTurns: true).stdout
            let before = registry.files()
            let addsBefore = gateway.actionCount("AddPortMapping")
            try await Immutable.set(registry.path)
            defer { Immutable.clear(registry.path) }
            for arguments in [["add", "8080/tcp", "--no-apply"], ["add", "8080/tcp"], ["remove", "9000/tcp", "--no-apply"], ["reconcile"]] {
                let result = try await registry.portkeeper(arguments, takingTurns: true)
                expectOneLineRefusal(result, saying: "read-only", arguments)
                #expect(registry.files() == before, "\(arguments) changed the registry")
            }
            #expect(gateway.actionCount("AddPortMapping") == addsBefore)
            Immutable.clear(registry.path)
            #expect(try await registry.portkeeper(["mappings", "--json"], takingTurns: true).stdout == mappings)
            #expect(try await registry.portkeeper(["history", "--json"], takingTurns: true).stdout == history)
        }
    }
}
