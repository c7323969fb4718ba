import Foundation
import IGDTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `--json` on every command that prints (issue 10 §3), checked on the real output of the
/// built binary against a fake gateway: each document conforms to its schema in schemas/,
/// stderr stays empty, a dry run and a reconcile have the same shape, and nothing written to
/// a pipe carries a terminal's escape sequences.
@Suite("JSON output of every command, against its schema")
struct JSONOutputTests {
    static let schemas = Result { try JSONSchemaCheck() }

    /// Checks a successful run's stdout against `schema`; returns it parsed.
    @discardableResult
    static func expectDocument(_ result: ProcessResult, _ schema: String, _ arguments: [String], status: Int32 = 0,
                               sourceLocation: SourceLocation = #_sourceLocation) throws -> JSONValue {
        #expect(result.status == status, "\(arguments): exit \(result.status): \(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.isEmpty, "\(arguments): stderr: \(result.stderr)", sourceLocation: sourceLocation)
        #expect(!result.stdout.contains("\u{1B}") && !result.stdout.contains("\r"), "\(arguments): an escape sequence on a pipe", sourceLocation: sourceLocation)
        let problems = try schemas.get().problems(result.stdout, against: schema)
        #expect(problems.isEmpty, "\(arguments) against \(schema): \(problems.joined(separator: "\n"))\n\(result.stdout)", sourceLocation: sourceLocation)
        let document = try JSONValue.parse(result.stdout)
        #expect(document["formatVersion"] == .integer(1), sourceLocation: sourceLocation)
        return document
    }

    @Test("discover, add, status, list, gateways, mappings, plan, reconcile, apply, remove, history, rollback: each document conforms to its schema")
    func everyCommandConforms() async throws {
        try await withGateway { gateway in
            let registry = try ScratchRegistry("json")
            defer { registry.remove() }
            func run(_ arguments: [String], _ schema: String, status: Int32 = 0, sourceLocation: SourceLocation = #_sourceLocation) async throws -> JSONValue {
                try Self.expectDocument(try await registry.portkeeper(arguments), schema, arguments, status: status, sourceLocation: sourceLocation)
            }
            let discovered = try await run(["discover", "--location", gateway.descriptionURL, "--json"], "discover.schema.json")
            #expect(discovered["gateways"]?.elements.first?["descriptionURL"]?.string == gateway.descriptionURL)

            let added = try await run(["add", "9000/tcp", "--description", "web", "--json"], "reconcile.schema.json")
            #expect(added["declaration"]?.elements.map { $0["kind"] } == [.string("declared")])
            #expect(added["operations"]?.elements.map { $0["status"] } == [.string("done")])
            #expect(added["inSync"] == .bool(true) && added["dryRun"] == .bool(false))
            let declaredOnly = try await run(["add", "9001/udp", "--no-apply", "--json"], "reconcile.schema.json")
            #expect(declaredOnly["inSync"] == .null && declaredOnly["operations"]?.elements.isEmpty == true)

            _ = try await run(["status", "--json"], "status.schema.json")
            let listed = try await run(["list", "--json"], "list.schema.json")
            #expect(listed["mappings"]?.elements.map { $0["externalPort"] } == [.integer(9000)])
            let gateways = try await run(["gateways", "--json"], "gateways.schema.json")
            // One name per concept: the description URL is `descriptionURL` wherever it appears.
            #expect(gateways["gateways"]?.elements.first?["descriptionURL"]?.string == gateway.descriptionURL)
            let mappings = try await run(["mappings", "--json"], "mappings.schema.json")
            #expect(mappings["mappings"]?.elements.count == 2)

            // A plan and a dry run are the same document; the reconcile has the same shape.
            let plan = try await registry.portkeeper(["plan", "--json"])
            let planned = try Self.expectDocument(plan, "reconcile.schema.json", ["plan"])
            let dryRun = try await registry.portkeeper(["reconcile", "--dry-run", "--json"])
            try Self.expectDocument(dryRun, "reconcile.schema.json", ["reconcile", "--dry-run"])
            #expect(dryRun.stdout == plan.stdout)
            #expect(planned["dryRun"] == .bool(true))
            #expect(planned["operations"]?.elements.map { $0["status"] } == [.string("planned")])
            let reconciled = try await run(["reconcile", "--json"], "reconcile.schema.json")
            #expect(reconciled.keys == planned.keys)
            #expect(reconciled["operations"]?.elements.map { $0["kind"] } == planned["operations"]?.elements.map { $0["kind"] })
            #expect(reconciled["operations"]?.elements.map { $0["status"] } == [.string("done")])
            // The change is structured: its key, and the mapping after.
            let change = try #require(reconciled["operations"]?.elements.first?["changes"]?.elements.first)
            #expect(change["key"]?["externalPort"] == .integer(9001) && change["key"]?["protocol"] == .string("UDP"))
            #expect(change["before"] == .null && change["after"]?["internalPort"] == .integer(9001))

            let file = registry.directory + "/ports.yaml"
            try Data("mappings:\n  - port: 9000/tcp\n    description: renamed\n".utf8).write(to: URL(fileURLWithPath: file))
            let planFile = try await run(["plan", "-f", file, "--json"], "reconcile.schema.json")
            #expect(planFile["declaration"]?.elements.map { $0["kind"] } == [.string("redeclared"), .string("undeclared")])
            let applied = try await run(["apply", "-f", file, "--json"], "reconcile.schema.json")
            #expect(applied["operations"]?.elements.map { $0["kind"] } == [.string("delete"), .string("update")])
            let redeclared = try #require(applied["declaration"]?.elements.first)
            #expect(redeclared["before"]?["description"] == .string("web") && redeclared["after"]?["description"] == .string("renamed"))

            _ = try await run(["remove", "9000/tcp", "--no-apply", "--json"], "reconcile.schema.json")
            let history = try await run(["history", "--json"], "history.schema.json")
            let revisions = history["revisions"]?.elements ?? []
            #expect(revisions.count >= 5)
            let first = try #require(revisions.last?["revision"])
            guard case .integer(let number) = first else { throw PortKeeperTestFailure("revision is not an integer") }
            _ = try await run(["rollback", String(number), "--no-apply", "--json"], "reconcile.schema.json")
            let rolledBack = try await run(["rollback", String(number), "--json"], "reconcile.schema.json")
            #expect(rolledBack["declaration"]?.elements.contains { $0["kind"] == .string("rolled-back") } == true)
        }
    }

    @Test("Under --json a failure is one line of JSON on stderr, stdout empty, with the exit code it has without --json", arguments: [
        (["add", "0/tcp"], 64, "invalid-input"),
        (["reconcile", "--deadline", "0"], 64, "usage"),
        (["recncile"], 64, "usage"),
        (["plan", "--gateway", "No Such Router"], 64, "not-found"),
        (["rollback", "999999"], 64, "not-found"),
        (["remove", "9999/tcp"], 64, "not-found"),
        (["add", "9000/tcp", "--to", ":9009"], 64, "conflict"),
        (["list", "--gateway", "http://127.0.0.1:1/desc.xml"], 1, "gateway-unreachable"),
    ] as [([String], Int32, String)])
    func errorsAsJSON(arguments: [String], status: Int32, code: String) async throws {
        try await withSeededRegistry("json-error") { registry, _ in
            let text = try await registry.portkeeper(arguments)
            let json = try await registry.portkeeper(arguments + ["--json"])
            #expect(text.status == status, "\(arguments): \(text.stderr)")
            #expect(json.status == status, "\(arguments) --json: \(json.stderr)")
            #expect(json.stdout.isEmpty, "\(json.stdout)")
            let lines = json.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(json.stderr)")
            let problems = try Self.schemas.get().problems(String(lines.first ?? ""), against: "error.schema.json")
            #expect(problems.isEmpty, "\(problems)\n\(json.stderr)")
            #expect(try JSONValue.parse(String(lines.first ?? ""))["error"]?["code"] == .string(code), "\(json.stderr)")
        }
    }

    @Test("watch --json writes one JSON object per event line on stdout, each conforming, from started to stopped")
    func watchEvents() async throws {
        try await withSeededRegistry("json-watch") { registry, gateway in
            let executable = try Products.path("portkeeper")
            let arguments = ["watch", "--json", "--interval", "30", "--no-announcements", "--db", registry.path]
            let environment = PortKeeperCLI.environment(for: arguments, adding: ["PORTKEEPER_LOG_LEVEL": "debug"])
            let looks = gateway.actionCount("GetListOfPortMappings")
            let watching = Task { try await ProcessRunner.run(executable, arguments, environment: environment, timeout: .seconds(120)) }
            try await waitUntil("watch looked at the gateway") { gateway.actionCount("GetListOfPortMappings") > looks }
            try await waitUntil("watch is running") { ProcessTable.pids(executable: executable, arguments: ["watch", registry.path]).count == 1 }
            for pid in ProcessTable.pids(executable: executable, arguments: ["watch", registry.path]) { kill(pid, SIGTERM) }
            let result = try await watching.value
            #expect(result.status == 0, "\(result.stderr)")
            let lines = result.stdout.split(separator: "\n").map(String.init)
            #expect(lines.count >= 2, "\(result.stdout)")
            for line in lines {
                let problems = try Self.schemas.get().problems(line, against: "watch-event.schema.json")
                #expect(problems.isEmpty, "\(problems)\n\(line)")
            }
            #expect(try lines.first.map(JSONValue.parse)?["event"] == .string("started"))
            #expect(try lines.last.map(JSONValue.parse)?["event"] == .string("stopped"))
            // The events are on stdout, not logged on stderr as well.
            #expect(!result.stderr.contains("started: watching"), "\(result.stderr)")
        }
    }
}

/// A failure of a test's own making, for `throw`.
struct PortKeeperTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
