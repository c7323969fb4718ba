import Foundation
import IGDTestSupport
import Testing

/// The built `portkeeper` binary against the fake seed router on loopback: what a user sees.
@Suite("CLI against the fake seed router")
struct CLITests {
    /// A registry of this test's own.
    let registry: ScratchRegistry
    var registryPath: String { registry.path }

    init() throws {
        registry = try ScratchRegistry("cli")
    }

    func portkeeper(_ arguments: [String]) async throws -> ProcessResult {
        try await PortKeeperCLI.run(arguments, environment: ["PORTKEEPER_DB": registryPath])
    }

    @Test func discoverWithLocationSkipsSSDPAndChoosesTheConnectedService() async throws {
        let gateway = try await SimulatedGateway.start(profile: try .seedRouter(connectedPath: "/UD/?9", externalIP: "60.32.1.5"), ssdp: false)
        defer { Task { await gateway.shutdown() } }
        let result = try await portkeeper(["discover", "--location", gateway.descriptionURL, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        struct Found: Decodable {
            var udn, friendlyName, descriptionURL, serviceType, controlURL: String
            var externalIP: String?
            var doubleNAT: Bool?
        }
        struct Document: Decodable { var gateways: [Found] }
        let found = try JSONDecoder().decode(Document.self, from: Data(result.stdout.utf8)).gateways
        try #require(found.count == 1)
        #expect(found[0].udn == "uuid:53563300-0101-0000-000ba233dcd7")
        #expect(found[0].friendlyName == "ADSL Modem-SV3")
        #expect(found[0].descriptionURL == gateway.descriptionURL)
        #expect(found[0].serviceType == "urn:schemas-upnp-org:service:WANPPPConnection:1")
        #expect(found[0].controlURL == gateway.url("/UD/?9"))
        #expect(found[0].externalIP == "60.32.1.5")
        #expect(found[0].doubleNAT == false)
    }

    @Test("a description URL that answers 404 is reported as a 404 with what to check, not as a broken router")
    func descriptionNotFound() async throws {
        let gateway = try await SimulatedGateway.start(profile: .igdv2(), ssdp: false)
        defer { Task { await gateway.shutdown() } }
        let missing = gateway.url("/no-such-description.xml")
        gateway.override(path: "/no-such-description.xml", reply: .response(status: 404, body: Array("not here".utf8)))
        let result = try await portkeeper(["discover", "--location", missing])
        expectOneLineRefusal(result, saying: "\(missing) answered HTTP 404 (not found); check the URL: `portkeeper discover` prints each gateway's description URL")
        #expect(!result.stderr.contains("specification"), "\(result.stderr)")
    }

    @Test("list --verbose logs each request sent and each answer received, on stderr; stdout stays the table")
    func verboseListLogsTheExchanges() async throws {
        let gateway = try await SimulatedGateway.start(profile: try .seedRouter(externalIP: "60.32.1.5"), ssdp: false)
        defer { Task { await gateway.shutdown() } }
        let result = try await portkeeper(["list", "--gateway", gateway.descriptionURL, "--verbose"])
        #expect(result.status == 0, "\(result.stderr)")
        let posts = result.stderr.split(separator: "\n").filter { $0.contains("→ POST \(gateway.baseURL)") && $0.contains("GetGenericPortMappingEntry NewPortMappingIndex=") }
        let answers = result.stderr.split(separator: "\n").filter { $0.contains("← GetGenericPortMappingEntry: HTTP ") }
        #expect(result.stderr.contains("→ GET \(gateway.descriptionURL)"), "\(result.stderr)")
        #expect(posts.count == gateway.actionCount("GetGenericPortMappingEntry"), "\(result.stderr)")
        #expect(answers.count == posts.count, "\(result.stderr)")
        #expect(result.stderr.contains("← GetGenericPortMappingEntry: HTTP 500"), "the listing's end is logged too: \(result.stderr)")
        #expect(!result.stdout.contains("→"), "\(result.stdout)")
    }

    @Test func listWalksTheSeedRoutersTableToItsHTTP500End() async throws {
        let gateway = try await SimulatedGateway.start(profile: try .seedRouter(externalIP: "60.32.1.5"), ssdp: false)
        defer { Task { await gateway.shutdown() } }
        let result = try await portkeeper(["list", "--gateway", gateway.descriptionURL, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        struct Entry: Decodable, Equatable {
            var remoteHost: String; var externalPort: UInt16; var `protocol`: String; var internalClient: String
            var internalPort: UInt16; var enabled: Bool; var description: String; var leaseDuration: UInt32
        }
        struct Document: Decodable { var mappings: [Entry] }
        let entries = try JSONDecoder().decode(Document.self, from: Data(result.stdout.utf8)).mappings
        #expect(entries == [Entry(remoteHost: "", externalPort: 80, protocol: "TCP", internalClient: "", internalPort: 80, enabled: false, description: "Webサーバ (HTTP)", leaseDuration: 0)])
        // Index 0, then index 1 answers HTTP 500 with an empty body: the list ended.
        #expect(gateway.actionCount("GetGenericPortMappingEntry") == 2)

        let text = try await portkeeper(["list", "--gateway", gateway.descriptionURL])
        #expect(text.stdout.contains("Webサーバ (HTTP)"))
        #expect(text.stdout.contains("1 mapping on ADSL Modem-SV3"))
    }

    @Test func statusWarnsOfDoubleNATInOneSentence() async throws {
        // The seed author's first setup: a second router in front, so the "external" address is private.
        let gateway = try await SimulatedGateway.start(profile: try .seedRouter(externalIP: "192.168.1.2"), ssdp: false)
        defer { Task { await gateway.shutdown() } }
        let result = try await portkeeper(["status", "--gateway", gateway.descriptionURL])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("double NAT    yes"))
        #expect(result.stdout.contains("192.168.1.2 (private)"))
        #expect(result.stdout.contains("warning: The gateway's external address 192.168.1.2 is private"))

        let json = try await portkeeper(["status", "--gateway", gateway.descriptionURL, "--json"])
        struct Status: Decodable { var externalIP: String?; var doubleNAT: Bool?; var addressClass: String? }
        let status = try JSONDecoder().decode(Status.self, from: Data(json.stdout.utf8))
        #expect(status.doubleNAT == true)
        #expect(status.addressClass == "private")
    }

    @Test(arguments: [
        (["status", "--gateway", "http://127.0.0.1:1/rootDesc.xml"], "connection refused"),
        (["list", "--gateway", "ftp://127.0.0.1/rootDesc.xml"], "is not http://"),
        (["list", "--gateway", "http://router.local:5000/rootDesc.xml"], "IPv4 address"),
        (["discover", "--location", "http://user@127.0.0.1:5000/x"], "user information"),
        (["discover", "--mx", "9"], "--mx must be between 1 and 5"),
    ])
    func badInputFailsWithOneClearLine(arguments: [String], expected: String) async throws {
        let result = try await portkeeper(arguments)
        #expect(result.status != 0)
        #expect(result.stdout.isEmpty)
        let lines = result.stderr.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        #expect(lines.contains { $0.contains(expected) }, "stderr: \(result.stderr)")
        if !arguments.contains("--mx") {
            #expect(lines.count == 1, "stderr: \(result.stderr)")
        }
    }

    @Test func aHungGatewayFailsWithinTheDeadline() async throws {
        let gateway = try await SimulatedGateway.start(profile: .igdv2(), ssdp: false)
        defer { Task { await gateway.shutdown() } }
        gateway.override(path: "/ctl/IPConn", reply: .hang)
        let start = ContinuousClock.now
        let result = try await portkeeper(["list", "--gateway", gateway.descriptionURL, "--request-timeout", "5"])
        let elapsed = ContinuousClock.now - start
        #expect(result.status != 0)
        #expect(result.stderr.contains("did not answer GetListOfPortMappings within 3 s"), "\(result.stderr)")
        #expect(elapsed < .seconds(60))
    }
}
