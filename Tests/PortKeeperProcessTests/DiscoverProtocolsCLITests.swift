import Foundation
import IGDProtocol
import IGDTestSupport
import PCPProtocol
import Testing

/// `portkeeper discover` over UPnP IGD, NAT-PMP and PCP, as a process: its probe pointed at a
/// fake NAT-PMP/PCP server on loopback with PORTKEEPER_PCP_SERVER (issue 9 §1).
@Suite("discover over three protocols, as a process")
struct DiscoverProtocolsCLITests {
    static func withFakes(_ body: (SimulatedGateway, FakePCPServer, ScratchRegistry) async throws -> Void) async throws {
        let gateway = try await SimulatedGateway.start(profile: try .seedRouter(), ssdp: false)
        let pcp = try await FakePCPServer.start(script: FakePCPGateway().script())
        let registry = try ScratchRegistry("discover-pcp")
        defer { registry.remove() }
        do {
            try await body(gateway, pcp, registry)
        } catch {
            await gateway.shutdown(); await pcp.shutdown()
            throw error
        }
        await gateway.shutdown(); await pcp.shutdown()
    }

    @Test("a PCP gateway and no UPnP one: discover --json lists it among portControlGateways, using PCP; the text says the same")
    func portControlOnly() async throws {
        try await Self.withFakes { _, pcp, registry in
            let environment = ["PORTKEEPER_PCP_SERVER": "127.0.0.1:\(pcp.port)"]
            // --timeout: the probe may take the whole window, so that a busy machine cannot end
            // it before the fake answers (discover then waits the 15 s out).
            let arguments = ["discover", "--timeout", "15", "--json", "--db", registry.path]
            let result = try await PortKeeperCLI.run(arguments, environment: environment)
            let document = try JSONOutputTests.expectDocument(result, "discover.schema.json", arguments)
            #expect(document["gateways"]?.elements.isEmpty == true)
            #expect(document["portControlServer"] == .string("127.0.0.1:\(pcp.port)"))
            let found = try #require(document["portControlGateways"]?.elements.first)
            #expect(document["portControlGateways"]?.elements.count == 1)
            #expect(found["identity"] == .string("pcp:127.0.0.1"))
            #expect(found["friendlyName"] == .string("PCP gateway 127.0.0.1"))
            #expect(found["preferredProtocol"] == .string("pcp"))
            #expect(found["protocols"]?.elements.map { $0["status"] } == [.string("no-answer"), .string("answered"), .string("answered")])
            #expect(found["protocols"]?.elements.last?["externalIP"] == .string(FakePCPGateway().externalAddress.description))

            let text = try await PortKeeperCLI.run(["discover", "--timeout", "15", "--db", registry.path], environment: environment)
            #expect(text.status == 0, "\(text.stderr)")
            #expect(text.stdout.contains("PCP gateway 127.0.0.1"), "\(text.stdout)")
            #expect(text.stdout.contains("PCP           answered, version 2, epoch 1000 s"), "\(text.stdout)")
            #expect(text.stdout.contains("uses          PCP: PCP answers (UPnP IGD does not)"), "\(text.stdout)")
            #expect(text.stdout.contains("NAT-PMP       answered, external IP 203.0.113.7 (reserved), epoch 1000 s"), "\(text.stdout)")
            // Recorded once, as a PCP gateway, however many times discover ran.
            let gateways = try await PortKeeperCLI.run(["gateways", "--json", "--db", registry.path])
            let known = try JSONValue.parse(gateways.stdout)["gateways"]?.elements ?? []
            #expect(known.count == 1 && known.first?["protocol"] == .string("pcp") && known.first?["portControlServer"] == .string("127.0.0.1"), "\(gateways.stdout)")
        }
    }

    @Test("the UPnP gateway at --location with a PCP server on its address is one gateway over three protocols, using UPnP IGD")
    func oneGateway() async throws {
        try await Self.withFakes { gateway, pcp, registry in
            // --timeout: the probe may take the whole window (without it, 300 ms at least), so
            // that a busy machine cannot end it before the fake answers.
            let arguments = ["discover", "--location", gateway.descriptionURL, "--timeout", "30", "--json", "--db", registry.path]
            let result = try await PortKeeperCLI.run(arguments, environment: ["PORTKEEPER_PCP_SERVER": "127.0.0.1:\(pcp.port)"])
            let document = try JSONOutputTests.expectDocument(result, "discover.schema.json", arguments)
            #expect(document["portControlGateways"]?.elements.isEmpty == true)
            let found = try #require(document["gateways"]?.elements.first)
            #expect(found["descriptionURL"] == .string(gateway.descriptionURL))
            #expect(found["lanAddress"] == .string("127.0.0.1"))
            #expect(found["preferredProtocol"] == .string("upnp"))
            #expect(found["protocols"]?.elements.map { $0["protocol"] } == [.string("upnp"), .string("pcp"), .string("natpmp")])
            #expect(found["protocols"]?.elements.map { $0["status"] } == [.string("answered"), .string("answered"), .string("answered")])
            #expect(found["protocols"]?.elements[1]["epoch"] == .integer(Int64(FakePCPGateway().epoch)))
        }
    }

    @Test("with only PORTKEEPER_SSDP_TARGET set, as in every test, no probe is sent: the protocols were not asked")
    func noProbeUnderTest() async throws {
        try await Self.withFakes { gateway, pcp, registry in
            let arguments = ["discover", "--location", gateway.descriptionURL, "--json", "--db", registry.path]
            let result = try await PortKeeperCLI.run(arguments)
            let document = try JSONOutputTests.expectDocument(result, "discover.schema.json", arguments)
            #expect(document["portControlServer"] == .null)
            #expect(document["gateways"]?.elements.first?["protocols"]?.elements.map { $0["status"] } == [.string("answered"), .string("not-asked"), .string("not-asked")])
            #expect(pcp.requests.isEmpty)
        }
    }

    @Test("a PORTKEEPER_PCP_SERVER that is not IPv4:PORT or off is a usage error, as PORTKEEPER_REQUEST_TIMEOUT's is")
    func badValue() async throws {
        let result = try await PortKeeperCLI.run(["discover", "--db", "/nonexistent/registry.sqlite"], environment: ["PORTKEEPER_PCP_SERVER": "router.local:5351"])
        #expect(result.status == 64)
        #expect(result.stderr.split(separator: "\n").first == "Error: PORTKEEPER_PCP_SERVER must be IPv4:PORT or off, not 'router.local:5351'", "\(result.stderr)")
    }
}
