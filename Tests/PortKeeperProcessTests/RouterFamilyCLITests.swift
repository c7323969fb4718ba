import Foundation
import IGDTestSupport
import Testing

/// Issue 7 §4 through the built binary: `add` and `list` against strict LiveBox and HG531 fakes,
/// the registry keeping the exact advertised service type; empty UDNs never merge two routers.
@Suite("Router families through the CLI")
struct RouterFamilyCLITests {
    /// A registry of this test's own.
    let registry: ScratchRegistry
    var registryPath: String { registry.path }

    init() throws {
        registry = try ScratchRegistry("families")
    }

    func portkeeper(_ arguments: [String]) async throws -> ProcessResult {
        try await PortKeeperCLI.run(arguments + ["--db", registryPath])
    }

    func removeRegistry() {
        registry.remove()
    }

    struct StoredGateway: Decodable { var udn, serviceType, controlURL, descriptionURL: String }
    struct Stored: Decodable { var gateways: [StoredGateway] }

    @Test("add applies and list shows the mapping; the registry stores and reuses the advertised type",
          arguments: ["livebox", "hg531"])
    func addThenList(family: String) async throws {
        defer { removeRegistry() }
        let profile = family == "livebox" ? try SimulatedGateway.Profile.orangeLiveBox() : try .huaweiHG531()
        let gateway = try await SimulatedGateway.start(profile: profile, ssdp: false)
        defer { Task { await gateway.shutdown() } }

        let added = try await portkeeper(["add", "8080/tcp", "--description", "web", "--gateway", gateway.descriptionURL])
        #expect(added.status == 0, "\(added.stderr)")
        #expect(gateway.mappings.map(\.externalPort) == [8080])

        let stored = try JSONDecoder().decode(Stored.self, from: Data(try await portkeeper(["gateways", "--json"]).stdout.utf8)).gateways
        #expect(stored.map(\.serviceType) == [profile.serviceType])
        #expect(stored.map(\.udn) == [profile.udn])

        let listed = try await portkeeper(["list", "--json"])
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(listed.stdout.contains("\"externalPort\" : 8080") || listed.stdout.contains("\"externalPort\":8080"), "\(listed.stdout)")
        // remove talks to the stored control URL with the stored service type: it must round-trip.
        let removed = try await portkeeper(["remove", "8080/tcp"])
        #expect(removed.status == 0, "\(removed.stderr)")
        #expect(gateway.mappings.isEmpty)
        // Every SOAP request carried the advertised type (the strict fake answers 401 otherwise).
        let posts = gateway.requests.filter { $0.method == "POST" }
        #expect(!posts.isEmpty)
        #expect(posts.allSatisfy { $0.header("SOAPAction")?.hasPrefix("\"\(profile.serviceType)#") == true })
    }

    @Test("Two routers whose descriptions have an empty UDN stay two gateways in the registry")
    func emptyUDNsDoNotMerge() async throws {
        defer { removeRegistry() }
        var profile = SimulatedGateway.Profile.noURLBase()
        profile.descriptionXML = profile.descriptionXML.split(separator: "<UDN>\(profile.udn)</UDN>", omittingEmptySubsequences: false).joined(separator: "<UDN>  </UDN>")
        try #require(!profile.descriptionXML.contains(profile.udn))
        let first = try await SimulatedGateway.start(profile: profile, ssdp: false, host: "127.0.0.1")
        defer { Task { await first.shutdown() } }
        let second = try await SimulatedGateway.start(profile: profile, ssdp: false, host: "127.0.0.2")
        defer { Task { await second.shutdown() } }

        for gateway in [first, second] {
            let result = try await portkeeper(["add", "9000/tcp", "--no-apply", "--gateway", gateway.descriptionURL])
            #expect(result.status == 0, "\(result.stderr)")
        }
        let stored = try JSONDecoder().decode(Stored.self, from: Data(try await portkeeper(["gateways", "--json"]).stdout.utf8)).gateways
        #expect(stored.map(\.udn) == ["uuid:no-udn-127.0.0.1", "uuid:no-udn-127.0.0.2"])
        #expect(stored.map(\.descriptionURL) == [first.descriptionURL, second.descriptionURL])
        // Each is addressable by its derived identity.
        let plan = try await portkeeper(["plan", "--gateway", "uuid:no-udn-127.0.0.2"])
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(second.actionCount("GetGenericPortMappingEntry") > 0)
    }
}
