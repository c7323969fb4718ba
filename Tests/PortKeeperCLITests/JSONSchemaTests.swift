import ArgumentParser
import Foundation
import IGDClient
import IGDProtocol
import IGDTestSupport
import MappingRegistry
import PortKeeper
@testable import portkeeper
import Testing

/// The schemas of schemas/ and the checker the tests use (``JSONSchemaCheck``): the checker
/// refuses what breaks a schema, so that a document that drifts from it fails the tests; every
/// event `watch --json` can write and every kind of error document conform; and the exit
/// codes keep one meaning each.
@Suite("JSON schemas and exit codes, in process")
struct JSONSchemaTests {
    let check: JSONSchemaCheck

    init() throws { check = try JSONSchemaCheck() }

    /// A reconcile document that conforms, to break in the tests below.
    static let valid = """
        {"formatVersion": 1, "dryRun": false, "gateway": {"udn": "uuid:1", "friendlyName": "R"}, "revision": 3,
         "declaration": [], "found": [{"kind": "found-missing", "key": null, "before": null, "after": null, "summary": "all gone"}],
         "operations": [{"kind": "add", "key": {"protocol": "TCP", "externalPort": 8080, "remoteHost": ""}, "before": null,
                         "after": {"protocol": "TCP", "externalPort": 8080, "remoteHost": "", "internalClient": "192.168.1.10",
                                   "internalPort": 80, "enabled": true, "description": "web", "leaseDuration": 0},
                         "reason": "declared, missing", "status": "done", "changes": [], "error": null}],
         "conflicts": [], "foreign": [], "ignored": [], "notRestored": [], "inSync": true, "stoppedAnswering": null}
        """

    @Test("every schema file is loaded, and a conforming document passes")
    func loads() {
        #expect(check.names == ["defs.schema.json", "discover.schema.json", "error.schema.json", "gateways.schema.json", "history.schema.json",
                                "list.schema.json", "mappings.schema.json", "reconcile.schema.json", "status.schema.json", "watch-event.schema.json"])
        #expect(check.problems(Self.valid, against: "reconcile.schema.json") == [])
    }

    @Test("a document that breaks the schema is refused, saying where", arguments: [
        (#""formatVersion": 1"#, #""formatVersion": 2"#, "$.formatVersion"),
        (#""formatVersion": 1, "#, "", "'formatVersion' is required"),
        (#""dryRun": false"#, #""dryRun": false, "extra": 1"#, "'extra' is not a property"),
        (#""revision": 3"#, #""revision": "3""#, "$.revision"),
        (#""status": "done""#, #""status": "finished""#, "$.operations[0].status"),
        (#""externalPort": 8080, "remoteHost": "", "internalClient""#, #""externalPort": 70000, "remoteHost": "", "internalClient""#, "above the maximum"),
        (#""protocol": "TCP", "externalPort": 8080, "remoteHost": ""}"#, #""protocol": "SCTP", "externalPort": 8080, "remoteHost": ""}"#, "$.operations[0].key.protocol"),
        (#""inSync": true"#, #""inSync": "yes""#, "$.inSync"),
        (#""gateway": {"udn": "uuid:1", "friendlyName": "R"}"#, #""gateway": null"#, "$.gateway"),
        (#""before": null, "after": null, "summary""#, #""before": 5, "after": null, "summary""#, "matches none of anyOf"),
        (#""enabled": true"#, #""enabled": 1"#, "$.operations[0].after.enabled"),
    ] as [(String, String, String)])
    func refusesWhatBreaksIt(from: String, to: String, saying: String) throws {
        #expect(Self.valid.contains(from))
        let broken = Self.valid.replacingOccurrences(of: from, with: to)
        let problems = check.problems(broken, against: "reconcile.schema.json")
        #expect(!problems.isEmpty, "accepted: \(broken)")
        #expect(problems.contains { $0.contains(saying) }, "\(problems)")
    }

    @Test("a schema that uses a keyword the checker does not know, or a $ref that leads nowhere, is an error, never ignored")
    func unknownKeywordsAreErrors() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("schema-check-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data(#"{"type": "object", "patternProperties": {"^x": {"type": "string"}}}"#.utf8).write(to: directory.appendingPathComponent("a.schema.json"))
        try Data(##"{"$ref": "#/$defs/missing"}"##.utf8).write(to: directory.appendingPathComponent("b.schema.json"))
        let custom = try JSONSchemaCheck(directory: directory)
        #expect(custom.problems("{}", against: "a.schema.json").contains { $0.contains("'patternProperties'") })
        #expect(custom.problems("{}", against: "b.schema.json").contains { $0.contains("leads nowhere") })
    }

    /// One event of each kind `watch` emits.
    static let events: [WatchEvent] = {
        let error = PortKeeperError(.gatewayRefused, "AddPortMapping 8080/tcp failed: the gateway answered 718 ConflictInMappingEntry",
                                    context: .fault(718))
        let entry = InvalidPortMappingEntry(action: "GetGenericPortMappingEntry", index: 2, fields: ["NewInternalClient": "x.y"], problems: ["odd"])
        return [
            .started(gateway: "R", udn: "uuid:1", declared: 2, interval: .seconds(60)),
            .notListening(error: error, interval: .milliseconds(1500)),
            .announcedLeaving, .announcedRestart(bootID: 2, was: 1), .announcedMove(location: "http://192.0.2.1:5000/d.xml"), .announcedReturn,
            .announcedEpoch(seconds: 3, over: .pcp),
            .announcedAddress(address: "203.0.113.9"),
            .rebooted(uptime: 5, was: 500), .verified(gateway: "R"), .moved(detail: "A → B"), .externalAddressChanged(detail: "1 → 2"),
            .hostAddressChanged(detail: "moved"), .restored(count: 2, lostOnGateway: true, afterReboot: true, revision: 4),
            .restored(count: 1, lostOnGateway: false, afterReboot: false, revision: nil), .renewed(count: 1), .updated(count: 1),
            .deleted(count: 1), .operationFailed(error), .operationsFailed(count: 1), .ignored(entry: entry, gateway: "R"),
            .notInSync(gateway: "R"), .away(afterByebye: true), .retrying(error: RegistryError.busy("busy"), after: .seconds(10)), .stopped,
        ]
    }()

    @Test("every event watch --json can write conforms to watch-event.schema.json, one line each")
    func everyWatchEvent() throws {
        var names: Set<String> = []
        for event in Self.events {
            let line = try #require(WatchLog.json(for: event, atLeast: .trace, now: Date(timeIntervalSince1970: 0)))
            #expect(!line.contains("\n"))
            #expect(check.problems(line, against: "watch-event.schema.json") == [], "\(line)")
            names.insert(WatchEventDocument.name(event))
        }
        #expect(names.count == 24, "one event of each kind: \(names.sorted())")
        // The level filter is the log's: verified (debug) is left out at info.
        #expect(WatchLog.json(for: .verified(gateway: "R"), atLeast: .info) == nil)
    }

    @Test("every kind of failure renders as an error document that conforms")
    func errorDocuments() throws {
        let errors: [any Error] = PortKeeperError.Kind.allCases.map { PortKeeperError($0, "it failed") }
            + RegistryError.Kind.allCases.map { RegistryError($0, "the registry failed") }
            + [InputError("ports.yaml:3: port: bad"), RegistryError.notFound("no known gateway matches 'x'", context: .unknownGateway)]
        for error in errors {
            let line = Render.jsonLine(ErrorDocument(error: ErrorRendering.json(error, doing: "testing")))
            #expect(check.problems(line, against: "error.schema.json") == [], "\(line)")
        }
    }

    @Test("exit codes: one meaning each (0 in sync, 1 error, 2 pending, 3 not in sync, 64 usage, 65/75/78 the registry)")
    func exitCodes() {
        let usage: [any Error] = [
            PortKeeperError(.invalidInput, "bad port"), InputError("ports.yaml:1: bad"), ValidationError("--deadline must be between 1 and 86400 seconds"),
            RegistryError.notFound("no known gateway matches 'x'", context: .unknownGateway),
            RegistryError.notFound("there is no revision 9", context: .unknownRevision),
            RegistryError(.notFound, "several", context: .severalGatewaysKnown),
            PortKeeperError(.conflict, "8080/tcp is already declared", context: .alreadyDeclared(MappingKey(protocol: .tcp, externalPort: 8080))),
            PortKeeperError(.notFound, "8080/tcp is not declared", context: .notDeclared),
            PortKeeperError(.ambiguous, "2 gateways answered", context: .severalGateways),
        ]
        for error in usage { #expect(ExitStatus.of(error).rawValue == 64, "\(error)") }
        let failures: [any Error] = [
            PortKeeperError(.gatewayUnreachable, "refused", context: .transport(.connectionRefused)),
            PortKeeperError(.notFound, "no UPnP gateway answered", context: .noGatewayAnswered),
            PortKeeperError(.deadline, "list did not finish within 60 s", context: .deadline),
            RegistryError.notFound("there is no registry at /x"), RegistryError(.readOnly, "read-only"),
        ]
        for error in failures { #expect(ExitStatus.of(error).rawValue == 1, "\(error)") }
        #expect(ExitStatus.of(RegistryError(.corrupt, "damaged")).rawValue == 65)
        #expect(ExitStatus.of(RegistryError(.busy, "busy")).rawValue == 75)
        #expect(ExitStatus.of(RegistryError(.newerVersion, "newer")).rawValue == 78)
        #expect(ExitStatus.changesPending.rawValue == 2 && ExitStatus.notInSync.rawValue == 3)
    }
}
