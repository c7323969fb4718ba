import Foundation
import IGDTestSupport
import Migrations
import Testing
@testable import MappingRegistry

/// The migrations embedded at build time, and the tool that embeds them.
@Suite struct MigrationTests {
    /// The SHA-256 of every migration file that shipped. A shipped migration has run on users'
    /// registries: editing it would leave theirs different from new ones. Add a new migration
    /// instead, and record its checksum here once it ships.
    static let shipped: KeyValuePairs<String, String> = [
        "0001_create_registry": "173c37964241fa0499357d942e14f2b5e54b867f45ca13bc7e54bc978dcecaf9",
        "0002_add_description_limit": "c7c7c03ae59b5d3586b3f7e73a629bcfb65c3da9267b454b556ffdf6cbacc0de",
        "0003_add_port_control": "962bbd3432286942861471903258fb653a9f9f15b8a9f3f0f275981e43e32eaa",
    ]

    static var migrationsDirectory: URL { repositoryRoot.appendingPathComponent("Migrations") }

    @Test func shippedMigrationsAreNeverEdited() {
        let embedded = Dictionary(uniqueKeysWithValues: EmbeddedMigrations.all.map { ($0.identifier, $0.sha256) })
        for (identifier, sha256) in Self.shipped {
            #expect(embedded[identifier] != nil, "\(identifier) shipped and is gone: a shipped migration must never be removed or renamed")
            if let actual = embedded[identifier] {
                #expect(actual == sha256, "\(identifier) changed (sha256 \(actual), shipped as \(sha256)): a shipped migration must never be edited: add a new one")
            }
        }
        let recorded = Set(Self.shipped.map(\.key))
        for migration in EmbeddedMigrations.all where !recorded.contains(migration.identifier) {
            Issue.record("\(migration.identifier) has no recorded checksum: add \"\(migration.identifier)\": \"\(migration.sha256)\" to MigrationTests.shipped")
        }
    }

    @Test func embeddedSQLIsExactlyTheFilesOnDisk() async throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.migrationsDirectory.path)
            .filter { $0.hasSuffix(".sql") }.sorted()
        #expect(!files.isEmpty)
        #expect(EmbeddedMigrations.all.map(\.identifier) == files.map { String($0.dropLast(4)) },
                "the embedded migrations are not the .sql files of Migrations/")
        for migration in EmbeddedMigrations.all {
            let url = Self.migrationsDirectory.appendingPathComponent(migration.identifier + ".sql")
            let bytes = try Data(contentsOf: url)
            #expect(Data(migration.sql.utf8) == bytes, "\(migration.identifier): the embedded SQL differs from the file")
            let sum = try await ProcessRunner.run("sha256sum", [url.path], timeout: .seconds(30)).check()
            #expect(migration.sha256 == String(sum.stdout.prefix(64)), "\(migration.identifier): wrong sha256")
        }
    }

    @Test func migrationsAreSortedWithDistinctNumbers() {
        let identifiers = EmbeddedMigrations.all.map(\.identifier)
        #expect(identifiers == identifiers.sorted())
        #expect(Set(identifiers.map { $0.prefix(4) }).count == identifiers.count)
        for identifier in identifiers {
            #expect(identifier.wholeMatch(of: /[0-9]{4}(_[a-z][a-z0-9]*){2,}/) != nil, "\(identifier) is not NNNN_verb_noun")
        }
    }

    @Test func theMigratorRegistersEveryMigrationInOrder() {
        #expect(Registry.migrator.migrations == EmbeddedMigrations.all.map(\.identifier))
    }

    // MARK: - The embed-migrations tool

    @Test(.enabled(if: EmbedTool.path != nil, "the embed-migrations binary was not found next to the test binary"))
    func toolRefusesMisnamedFiles() async throws {
        try await withTemporaryDirectory { root in
            for name in ["1_create_thing.sql", "0002_Create_thing.sql", "0002_create.sql", "0002-create-thing.sql",
                         "0002_create__thing.sql", "0002_create_thing_.sql", "00002_create_thing.sql", "0002_créer_chose.sql"] {
                let file = root + "/" + name
                try Data("SELECT 1;\n".utf8).write(to: URL(fileURLWithPath: file))
                let result = try await EmbedTool.run(output: root + "/out.swift", inputs: [file])
                #expect(result.status != 0, "\(name) was accepted")
                #expect(result.stderr.contains("does not match NNNN_verb_noun.sql"), "\(name): \(result.stderr)")
                #expect(!fileExists(root + "/out.swift"))
                unlink(file)
            }
        }
    }

    @Test(.enabled(if: EmbedTool.path != nil, "the embed-migrations binary was not found next to the test binary"))
    func toolRefusesTwoMigrationsWithOneNumber() async throws {
        try await withTemporaryDirectory { root in
            let files = ["0001_create_registry.sql", "0002_add_notes.sql", "0002_add_labels.sql"].map { root + "/" + $0 }
            for file in files { try Data("SELECT 1;\n".utf8).write(to: URL(fileURLWithPath: file)) }
            let result = try await EmbedTool.run(output: root + "/out.swift", inputs: files)
            #expect(result.status != 0)
            #expect(result.stderr.contains("share the number 0002"), "\(result.stderr)")
            #expect(result.stderr.contains("0002_add_notes.sql") && result.stderr.contains("0002_add_labels.sql"))
        }
    }

    @Test(.enabled(if: EmbedTool.path != nil, "the embed-migrations binary was not found next to the test binary"))
    func toolRefusesFilesThatAreNotUTF8() async throws {
        try await withTemporaryDirectory { root in
            let file = root + "/0001_create_registry.sql"
            try Data([0x53, 0x45, 0xff, 0xfe, 0x0a]).write(to: URL(fileURLWithPath: file))
            let result = try await EmbedTool.run(output: root + "/out.swift", inputs: [file])
            #expect(result.status != 0)
            #expect(result.stderr.contains("not valid UTF-8"))
        }
    }

    /// Whatever a migration contains, the generated Swift compiles and holds exactly its bytes.
    @Test(.enabled(if: EmbedTool.path != nil && EmbedTool.swiftc != nil, "needs the embed-migrations binary and swiftc"))
    func toolEmbedsAnyTextExactly() async throws {
        try await withTemporaryDirectory { root in
            let texts: [(String, String)] = [
                ("0003_quote_delimiters", "SELECT '\"\"\"#'; -- \"#\" \"##\" \"\"\"### ##### \\#(x) \\##(y) \\#n \\\n"),
                ("0001_keep_line_endings", "CREATE TABLE t (x);\r\nINSERT INTO t VALUES ('a\rb');\n\n\n"),
                ("0002_odd_characters", "\u{feff}-- tab\there, nul \u{0} bell \u{7} del \u{7f} ls \u{2028} ps \u{2029} rlo \u{202e} é 🎉 \u{e000}\n   "),
                ("0004_empty_file", ""),
                ("0005_no_final_newline", "SELECT 1;"),
                ("0006_only_newline", "\n"),
            ]
            var inputs: [String] = []
            for (identifier, text) in texts {
                let file = root + "/" + identifier + ".sql"
                try Data(text.utf8).write(to: URL(fileURLWithPath: file))
                inputs.append(file)
            }
            let generated = root + "/EmbeddedMigrations.swift"
            try await EmbedTool.run(output: generated, inputs: inputs).check()

            // A tiny program printing what it embedded: identifier, sha256, and the SQL's bytes in hex.
            let main = root + "/main.swift"
            try Data(#"""
                for migration in EmbeddedMigrations.all {
                    print(migration.identifier, migration.sha256, migration.sql.utf8.map { String($0, radix: 16) }.joined(separator: ","))
                }
                """#.utf8).write(to: URL(fileURLWithPath: main))
            let program = root + "/embedded"
            try await ProcessRunner.run(EmbedTool.swiftc!, ["-swift-version", "6", "-o", program, generated, main], timeout: .seconds(300)).check()
            let output = try await ProcessRunner.run(program, [], timeout: .seconds(30)).check().stdout
            let lines = output.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            let expected = texts.sorted { $0.0 < $1.0 }
            #expect(lines.count == expected.count)
            for (line, (identifier, text)) in zip(lines, expected) {
                let fields = line.split(separator: " ", omittingEmptySubsequences: false)
                #expect(fields.count == 3)
                #expect(fields.first.map(String.init) == identifier)
                let sum = try await ProcessRunner.run("sha256sum", [root + "/" + identifier + ".sql"], timeout: .seconds(30)).check()
                #expect(fields.dropFirst().first.map(String.init) == String(sum.stdout.prefix(64)), "\(identifier): wrong sha256")
                let bytes = fields.last.map { $0.isEmpty ? [] : $0.split(separator: ",").map { UInt8($0, radix: 16)! } } ?? []
                #expect(bytes == Array(text.utf8), "\(identifier): the embedded text differs from the file")
            }
        }
    }

    @Test(.enabled(if: EmbedTool.path != nil, "the embed-migrations binary was not found next to the test binary"))
    func toolComputesTheStandardSHA256() async throws {
        // Known answers (FIPS 180-2 examples) through the generated source, and lengths around
        // the 55/56/64-byte padding boundaries checked against sha256sum.
        try await withTemporaryDirectory { root in
            var texts: [(String, String)] = [("0001_abc_text", "abc"), ("0002_empty_text", ""),
                                             ("0003_two_blocks", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")]
            for (index, length) in [55, 56, 63, 64, 65, 119, 120, 1000].enumerated() {
                texts.append((String(format: "%04d_length_test", 10 + index), String(repeating: "x", count: length)))
            }
            var inputs: [String] = []
            for (identifier, text) in texts {
                let file = root + "/" + identifier + ".sql"
                try Data(text.utf8).write(to: URL(fileURLWithPath: file))
                inputs.append(file)
            }
            let generated = root + "/out.swift"
            try await EmbedTool.run(output: generated, inputs: inputs).check()
            let source = String(decoding: contents(generated) ?? Data(), as: UTF8.self)
            #expect(source.contains("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"))
            #expect(source.contains("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"))
            #expect(source.contains("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"))
            for input in inputs {
                let sum = try await ProcessRunner.run("sha256sum", [input], timeout: .seconds(30)).check()
                #expect(source.contains("sha256: \"\(sum.stdout.prefix(64))\""), "\(input)")
            }
        }
    }
}

/// The embed-migrations tool as built for the plugin, found next to the test binary.
private enum EmbedTool {
    static let path: String? = {
        guard let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
        // The test binary may be inside a bundle (…/portkeeperPackageTests.xctest/Contents/MacOS).
        for _ in 0..<4 {
            for name in ["embed-migrations-tool", "embed-migrations"] {
                let candidate = directory.appendingPathComponent(name).path
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
            directory.deleteLastPathComponent()
        }
        return nil
    }()

    static let swiftc: String? = try? ProcessRunner.resolve("swiftc")

    static func run(output: String, inputs: [String]) async throws -> ProcessResult {
        try await ProcessRunner.run(path!, [output] + inputs, timeout: .seconds(60))
    }
}
