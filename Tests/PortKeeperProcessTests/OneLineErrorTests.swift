import Foundation
import IGDTestSupport
import Testing

/// What a user sees when something fails against a gateway: exit 1 and one line per failure
/// on stderr, naming the fault and what to try; warnings for entries that make no sense.
@Suite("CLI: one line per failure")
struct OneLineErrorTests {
    /// The non-empty lines of stderr.
    static func lines(_ text: String) -> [String] {
        text.split(separator: "\n").map(String.init).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
    }

    @Test("A fault on add is named with what to try, on one line, and the exit is 3 (done, not in sync)")
    func faultNamed() async throws {
        try await withSeededRegistry("fault718") { registry, gateway in
            gateway.injectFault(action: "AddPortMapping", code: 718)
            let result = try await registry.portkeeper(["add", "8080/tcp"])
            #expect(result.status == 3, "\(result.stderr)")
            let lines = Self.lines(result.stderr)
            #expect(lines.count == 1, "\(result.stderr)")
            let line = try #require(lines.first)
            #expect(line.hasPrefix("portkeeper: error: AddPortMapping 8080/tcp on "), "\(line)")
            #expect(line.contains("the gateway answered 718 ConflictInMappingEntry"), "\(line)")
            #expect(line.contains("--force"), "\(line)")
            #expect(!result.stdout.contains("upnp:718"), "\(result.stdout)")
            #expect(result.stdout.contains("718 ConflictInMappingEntry"), "\(result.stdout)")
        }
    }

    @Test("An HTTP 500 without a fault is told in words, never as an internal outcome code")
    func http500InWords() async throws {
        try await withSeededRegistry("http500") { registry, gateway in
            gateway.injectReply(action: "AddPortMapping", reply: .text(500, "", contentType: "text/plain"), times: 1)
            let result = try await registry.portkeeper(["add", "8081/tcp"])
            #expect(result.status == 3, "\(result.stderr)")
            for text in [result.stdout, result.stderr] {
                #expect(!text.contains("unknown:"), "\(text)")
            }
            let lines = Self.lines(result.stderr)
            #expect(lines.count == 1, "\(result.stderr)")
            #expect(lines.first?.contains("answered AddPortMapping with HTTP 500 and no UPnP fault") == true, "\(result.stderr)")
        }
    }

    @Test("A gateway hanging mid-reconcile: one line, exit 1, and the journal says the rest were not sent")
    func hangMidReconcile() async throws {
        try await withGateway { gateway in
            let registry = try ScratchRegistry("hang")
            defer { registry.remove() }
            try await registry.portkeeper(["add", "7001/tcp", "--no-apply", "--gateway", gateway.descriptionURL]).check()
            try await registry.portkeeper(["add", "7002/tcp", "--no-apply"]).check()
            try await registry.portkeeper(["add", "7003/tcp", "--no-apply"]).check()
            gateway.injectReply(action: "AddPortMapping", reply: .hang)
            // 15 s for each request: the hang on AddPortMapping is what must run out, not the
            // description or the listing before it on a machine busy with the whole suite.
            let result = try await registry.portkeeper(["reconcile", "--json", "--request-timeout", "15"])
            #expect(result.status == 1)
            struct Report: Decodable {
                struct Failure: Decodable { var code: String; var message: String }
                struct Operation: Decodable { struct Key: Decodable { var externalPort: UInt16 }; var key: Key; var status: String }
                var inSync: Bool?
                var stoppedAnswering: Failure?
                var operations: [Operation]
            }
            let report = try #require(try? JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8)),
                                      "no reconcile document on stdout: \(result.stdout) stderr: \(result.stderr)")
            #expect(report.inSync == false)
            #expect(report.operations.map(\.key.externalPort) == [7001, 7002, 7003])
            #expect(report.operations.map(\.status) == ["failed", "not-attempted", "not-attempted"])
            #expect(report.stoppedAnswering?.message.contains("did not answer AddPortMapping") == true)
            // Under --json the failure is one line of JSON on stderr.
            let lines = Self.lines(result.stderr)
            #expect(lines.count == 1, "\(result.stderr)")
            struct ErrorLine: Decodable { var formatVersion: Int; var error: Report.Failure }
            let error = try JSONDecoder().decode(ErrorLine.self, from: Data((lines.first ?? "").utf8)).error
            #expect(error.code == "gateway-timeout" || error.code == "deadline", "\(error.code)")
            #expect(error.message.contains("did not answer AddPortMapping within"), "\(result.stderr)")
            #expect(error.message.contains("2 operations were not sent"), "\(result.stderr)")
            #expect(gateway.actionCount("AddPortMapping") == 1)
            let outcomes = try await SQLiteShell.query(registry.path, "SELECT external_port || ' ' || outcome FROM operation ORDER BY id")
                .split(separator: "\n").map(String.init)
            #expect(outcomes.count == 3)
            #expect(outcomes.first?.hasPrefix("7001 unknown:") == true, "\(outcomes)")
            #expect(Array(outcomes.dropFirst()) == ["7002 failed:not sent: the gateway had stopped answering", "7003 failed:not sent: the gateway had stopped answering"])

            let again = try await registry.portkeeper(["reconcile"])
            #expect(again.status == 0, "\(again.stderr)")
            #expect(again.stderr.isEmpty, "\(again.stderr)")
            #expect(Set(gateway.mappings.map(\.externalPort)) == [7001, 7002, 7003])
        }
    }

    @Test("remove answered 714: the mapping is already gone, the ownership record is dropped, exit 0")
    func removeAnswered714() async throws {
        try await withSeededRegistry("remove714") { registry, gateway in
            gateway.injectFault(action: "DeletePortMapping", code: 714)
            let result = try await registry.portkeeper(["remove", "9000/tcp"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.isEmpty, "\(result.stderr)")
            #expect(result.stdout.contains("already gone from the gateway"), "\(result.stdout)")
            let owned = try await SQLiteShell.query(registry.path, "SELECT count(*) FROM owned_mapping WHERE external_port = 9000")
            #expect(owned.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        }
    }

    @Test("status exits 1 with one line when GetExternalIPAddress fails")
    func statusWithoutExternalAddress() async throws {
        try await withSeededRegistry("status") { registry, gateway in
            gateway.injectFault(action: "GetExternalIPAddress", code: 501, times: 2)
            let result = try await registry.portkeeper(["status"])
            expectOneLineRefusal(result, saying: "for its external address failed: the gateway answered 501 ActionFailed")
            #expect(!result.stdout.contains("unknown"), "\(result.stdout)")
        }
    }

    @Test("list shows the entries that make sense and warns once for each that does not")
    func listWarnsOfSenselessEntries() async throws {
        try await withGateway { gateway in
            let registry = try ScratchRegistry("senseless")
            defer { registry.remove() }
            gateway.setMappings([
                SimulatedGateway.Mapping(externalPort: 8001, protocol: "TCP", internalPort: 80, internalClient: "192.168.1.20", description: "fine"),
                SimulatedGateway.Mapping(externalPort: 8002, protocol: "TCP", internalPort: 80, internalClient: "x.y", description: "odd"),
                SimulatedGateway.Mapping(externalPort: 8003, protocol: "UDP", internalPort: 53, internalClient: "198.51.100.2&amp;", description: "odd too"),
            ])
            let result = try await registry.portkeeper(["list", "--json", "--gateway", gateway.descriptionURL])
            #expect(result.status == 0, "\(result.stderr)")
            struct Entry: Decodable { var externalPort: UInt16 }
            struct Listed: Decodable { var mappings: [Entry]; var ignored: [String] }
            let listed = try JSONDecoder().decode(Listed.self, from: Data(result.stdout.utf8))
            #expect(listed.mappings.map(\.externalPort) == [8001])
            // Under --json the entries ignored are in the document, and stderr stays empty.
            #expect(result.stderr.isEmpty, "\(result.stderr)")
            #expect(listed.ignored.count == 2)
            #expect(listed.ignored.first?.contains("8002/TCP → x.y:80 'odd'") == true, "\(listed.ignored)")
            #expect(listed.ignored.last?.contains("internal client '198.51.100.2&amp;' is not an IPv4 address") == true, "\(listed.ignored)")
            let text = try await registry.portkeeper(["list", "--gateway", gateway.descriptionURL])
            let lines = Self.lines(text.stderr)
            #expect(lines.count == 2, "\(text.stderr)")
            #expect(lines.allSatisfy { $0.hasPrefix("portkeeper: warning: ") && $0.contains("ignored") })

            // Declared on a port such an entry holds: added over it, never named as a conflict.
            try await registry.portkeeper(["add", "8002/tcp", "--no-apply"]).check()
            let plan = try await registry.portkeeper(["plan"])
            #expect(plan.status == 0, "\(plan.stderr)")
            #expect(!plan.stdout.contains("conflict 8002"), "\(plan.stdout)")
            #expect(plan.stdout.contains("+ add      8002/tcp"), "\(plan.stdout)")
        }
    }

    @Test("A description that is not XML: one line, without Foundation's error text", arguments: ["<root><unclosed></root>", "plain words, no markup", "<a><b></a>"])
    func descriptionNotXML(body: String) async throws {
        try await withGateway { gateway in
            let registry = try ScratchRegistry("notxml")
            defer { registry.remove() }
            gateway.override(path: gateway.profile.descriptionPath, reply: .text(200, body))
            let result = try await registry.portkeeper(["discover", "--location", gateway.descriptionURL])
            expectOneLineRefusal(result, saying: "the device description at \(gateway.descriptionURL) is not usable")
            #expect(!result.stderr.contains("ErrorDomain"), "\(result.stderr)")
            #expect(!result.stderr.contains("operation could"), "\(result.stderr)")
        }
    }

    @Test("--deadline bounds the whole command and the error names the deadline that ran out")
    func commandDeadline() async throws {
        try await withGateway { gateway in
            let registry = try ScratchRegistry("deadline")
            defer { registry.remove() }
            gateway.override(path: "/ctl/IPConn", reply: .hang)
            let result = try await registry.portkeeper(["list", "--gateway", gateway.descriptionURL, "--deadline", "1"])
            // On an idle machine it runs out during GetListOfPortMappings; on a busy one maybe
            // while still reading the description. Either way the command's deadline is named.
            expectOneLineRefusal(result, saying: "list did not finish within 1 s (it ran out during ")
            #expect(result.stderr.contains("--deadline"), "\(result.stderr)")
        }
    }

    @Test("A description URL that answers an HTML login page says so in one line")
    func htmlLoginPage() async throws {
        try await withGateway { gateway in
            let registry = try ScratchRegistry("html")
            defer { registry.remove() }
            gateway.override(path: gateway.profile.descriptionPath, reply: .text(200, "<!DOCTYPE html><html><body>Login</body></html>", contentType: "text/html"))
            let result = try await registry.portkeeper(["discover", "--location", gateway.descriptionURL])
            expectOneLineRefusal(result, saying: "returned an HTML page, not a UPnP device description (a login page?)")
        }
    }
}
