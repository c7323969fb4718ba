import IGDClient
import IGDProtocol
import IGDTestSupport
import PCPProtocol
@testable import PortKeeper
import Testing

/// Discovery over UPnP IGD, NAT-PMP and PCP at once (issue 9 §1), against fakes on loopback.
@Suite("Discovery over three protocols")
struct ThreeProtocolDiscoveryTests {
    // MARK: Which protocol portkeeper uses

    @Test("UPnP IGD where it answers, else PCP, else NAT-PMP; nothing when nothing answered", arguments: [
        (true, true, true, GatewayProtocol.upnp),
        (true, false, false, .upnp),
        (true, false, true, .upnp),
        (false, true, true, .pcp),
        (false, true, false, .pcp),
        (false, false, true, .natPMP),
    ])
    func preference(upnp: Bool, pcp: Bool, natPMP: Bool, expected: GatewayProtocol) {
        let choice = ProtocolChoice.preferredProtocol(upnp: upnp, pcp: pcp, natPMP: natPMP, declared: nil)
        #expect(choice?.protocol == expected)
        #expect(choice?.reason.isEmpty == false)
    }

    @Test("nothing answered and nothing declared: no choice")
    func noChoice() {
        #expect(ProtocolChoice.preferredProtocol(upnp: false, pcp: false, natPMP: false, declared: nil) == nil)
    }

    @Test("a declared protocol wins over the preference, and the reason says when it did not answer")
    func declared() {
        let pcp = ProtocolChoice.preferredProtocol(upnp: true, pcp: true, natPMP: true, declared: .pcp)
        #expect(pcp == ProtocolChoice(protocol: .pcp, reason: "declared with --protocol pcp"))
        let silent = ProtocolChoice.preferredProtocol(upnp: true, pcp: false, natPMP: false, declared: .natPMP)
        #expect(silent?.protocol == .natPMP)
        #expect(silent?.reason == "declared with --protocol natpmp, though it was not seen answering", "\(String(describing: silent))")
    }

    // MARK: Against fakes

    /// An inspector searching a loopback responder and probing the fake server at `pcp` (none:
    /// `.off`). The probe gets `minimumWait` at least: generous by default, so that a busy machine
    /// cannot end it before the fake's answer arrives.
    /// `mx` (5 s by default) bounds how long the search goes on after the probe's answer: long
    /// enough that a busy machine's SSDP answer is not cut off where a test expects it.
    static func inspector(ssdpPort: Int, pcp: FakePCPServer?, window: Duration = .seconds(20), minimumWait: Duration = .seconds(10), mx: Int = 5) -> Inspector {
        var options = GatewayBehaviourTests.loopbackDiscovery(port: ssdpPort)
        options.window = window
        options.mx = mx
        options.portControlMinimumWait = minimumWait
        options.portControl = pcp.map { .server($0.address, port: $0.port) } ?? .off
        let client = GatewayClient(limits: HTTPLimits(connectTimeout: .seconds(10), readTimeout: .seconds(20), deadline: .seconds(20)))
        return Inspector(client: client, discovery: options)
    }

    @Test("a gateway answering UPnP IGD and NAT-PMP/PCP on one LAN address is one gateway, over three protocols, using UPnP IGD")
    func oneGatewayThreeProtocols() async throws {
        let gateway = try await SimulatedGateway.start(profile: try .seedRouter(), ssdp: true)
        let pcp = try await FakePCPServer.start(script: FakePCPGateway().script())
        defer { Task { await gateway.shutdown(); await pcp.shutdown() } }
        var inspector = Self.inspector(ssdpPort: try #require(gateway.ssdpPort), pcp: pcp)
        // The search goes on MX and this long after the probe's answer: the full suite beside a
        // fuzz run has been seen to take over MX (5 s) to answer SSDP and be described.
        inspector.discovery.portControlSettle = .seconds(15)
        let found = try await inspector.discover(at: nil)
        #expect(found.gateways.count == 1)
        #expect(found.portControl.count == 1)
        #expect(found.portControlServer?.address == pcp.address && found.portControlServer?.port == pcp.port)
        let entries = found.found
        try #require(entries.count == 1)
        let entry = entries[0]
        #expect(entry.identity == gateway.profile.udn)
        #expect(entry.lanAddress == IPv4Address(127, 0, 0, 1))
        #expect(entry.protocols == [.upnp, .pcp, .natPMP])
        #expect(entry.choice()?.protocol == .upnp)
        #expect(entry.reports.map(\.status) == [.answered, .answered, .answered])
        #expect(entry.reports[2].externalAddress?.reported == FakePCPGateway().externalAddress.description)
        #expect(entry.reports[1].epoch == FakePCPGateway().epoch && entry.reports[1].version == 2 && entry.reports[1].result == "SUCCESS")
        #expect(found.gateway(for: found.portControl[0])?.udn == gateway.profile.udn)
    }

    @Test("a UPnP gateway answering SSDP long after its PCP server is still one gateway over three protocols: the probe's answer does not end the search before MX")
    func slowSSDP() async throws {
        let gateway = try await SimulatedGateway.start(profile: try .seedRouter(), ssdp: false)
        let pcp = try await FakePCPServer.start(script: FakePCPGateway().script())
        let answer = FakeSSDPDatagram.searchResponse(st: "urn:schemas-upnp-org:device:InternetGatewayDevice:1",
                                                     usn: "\(gateway.profile.udn)::urn:schemas-upnp-org:device:InternetGatewayDevice:1", location: gateway.descriptionURL)
        // 600 ms late: after the 500 ms an earlier version waited after the probe's answer,
        // well within MX (3 s here, so that a busy machine keeps a wide margin).
        let responder = try await FakeSSDPResponder.start { search in
            guard search.method.uppercased() == "M-SEARCH" else { return [] }
            var late = answer
            late.delay = .milliseconds(600)
            return [late]
        }
        defer { Task { await gateway.shutdown(); await pcp.shutdown(); await responder.shutdown() } }
        var inspector = Self.inspector(ssdpPort: responder.port, pcp: pcp, mx: 3)
        inspector.discovery.searchTargets = ["urn:schemas-upnp-org:device:InternetGatewayDevice:1"]
        let found = try await inspector.discover(at: nil)
        #expect(found.found.count == 1)
        #expect(found.found.first?.protocols == [.upnp, .pcp, .natPMP])
    }

    @Test("a NAT-PMP/PCP-only gateway is found, named by its address, and ends the silent SSDP search long before its window")
    func portControlOnly() async throws {
        let silent = try await FakeSSDPResponder.start { _ in [] }
        let pcp = try await FakePCPServer.start(script: FakePCPGateway().script())
        defer { Task { await silent.shutdown(); await pcp.shutdown() } }
        let start = ContinuousClock.now
        let found = try await Self.inspector(ssdpPort: silent.port, pcp: pcp, window: .seconds(60), mx: 1).discover(at: nil)
        #expect(ContinuousClock.now - start < .seconds(40), "the probe's answer ends the search, not its 60 s window")
        #expect(found.gateways.isEmpty)
        let entry = try #require(found.found.first)
        #expect(found.found.count == 1)
        #expect(entry.upnp == nil)
        #expect(entry.identity == "pcp:127.0.0.1")
        #expect(entry.friendlyName == "PCP gateway 127.0.0.1")
        #expect(entry.protocols == [.pcp, .natPMP])
        #expect(entry.choice() == ProtocolChoice(protocol: .pcp, reason: "PCP answers (UPnP IGD does not)"))
        #expect(entry.reports.map(\.status) == [.noAnswer, .answered, .answered])
    }

    @Test("a NAT-PMP-only gateway: PCP unsupported, NAT-PMP used")
    func natPMPOnly() async throws {
        let silent = try await FakeSSDPResponder.start { _ in [] }
        var speaker = FakePCPGateway()
        speaker.speaksPCP = false
        let pcp = try await FakePCPServer.start(script: speaker.script())
        defer { Task { await silent.shutdown(); await pcp.shutdown() } }
        let found = try await Self.inspector(ssdpPort: silent.port, pcp: pcp, mx: 1).discover(at: nil)
        let entry = try #require(found.found.first)
        #expect(entry.friendlyName == "NAT-PMP gateway 127.0.0.1")
        #expect(entry.protocols == [.natPMP])
        #expect(entry.choice()?.protocol == .natPMP)
        #expect(entry.reports.map(\.status) == [.noAnswer, .unsupported, .answered])
    }

    @Test("a UPnP gateway with a silent NAT-PMP/PCP server: discovery does not wait out the probe's deadline; PCP and NAT-PMP did not answer")
    func silentProbe() async throws {
        let gateway = try await SimulatedGateway.start(profile: try .seedRouter(), ssdp: true)
        let pcp = try await FakePCPServer.start { _ in [] }
        defer { Task { await gateway.shutdown(); await pcp.shutdown() } }
        let start = ContinuousClock.now
        let found = try await Self.inspector(ssdpPort: try #require(gateway.ssdpPort), pcp: pcp, window: .seconds(60), minimumWait: .milliseconds(300))
            .discover(at: nil)
        #expect(ContinuousClock.now - start < .seconds(40), "the probe is cancelled once UPnP is done, not run to its 60 s deadline")
        #expect(found.portControl.isEmpty)
        let entry = try #require(found.found.first)
        #expect(entry.reports.map(\.status) == [.answered, .noAnswer, .noAnswer])
        #expect(entry.choice()?.protocol == .upnp)
        try await waitUntil("the probe at the fake") { !pcp.requests.isEmpty }
    }

    @Test("nothing answering over any protocol is not found, and the error names where the probe went")
    func nothingAnswers() async throws {
        let silent = try await FakeSSDPResponder.start { _ in [] }
        let pcp = try await FakePCPServer.start { _ in [] }
        defer { Task { await silent.shutdown(); await pcp.shutdown() } }
        let error = await #expect(throws: PortKeeperError.self) {
            try await Self.inspector(ssdpPort: silent.port, pcp: pcp, window: .milliseconds(600)).discover(at: nil)
        }
        #expect(error?.kind == .notFound)
        #expect(error?.message.hasPrefix("no UPnP gateway answered on any interface within 0.6 s; no NAT-PMP or PCP server answered at 127.0.0.1:\(pcp.port)") == true, "\(String(describing: error))")
    }

    @Test("a search pointed at loopback sends no probe unless a server is named; the protocols say they were not asked")
    func noProbeOnLoopbackSearch() async throws {
        let gateway = try await SimulatedGateway.start(profile: try .seedRouter(), ssdp: true)
        defer { Task { await gateway.shutdown() } }
        var inspector = Self.inspector(ssdpPort: try #require(gateway.ssdpPort), pcp: nil)
        inspector.discovery.portControl = .automatic
        let found = try await inspector.discover(at: nil)
        #expect(found.portControlServer == nil)
        #expect(found.found.first?.reports.map(\.status) == [.answered, .notAsked, .notAsked])
    }

    @Test("with --location the gateway there is described and the named server probed; a finding on another address is another gateway")
    func locationAndAnotherAddress() async throws {
        let gateway = try await SimulatedGateway.start(profile: try .seedRouter(), ssdp: false)
        let pcp = try await FakePCPServer.start(script: FakePCPGateway().script())
        defer { Task { await gateway.shutdown(); await pcp.shutdown() } }
        let url = try GatewayURL(parsing: gateway.descriptionURL)
        let found = try await Self.inspector(ssdpPort: 9, pcp: pcp).discover(at: url)
        #expect(found.found.count == 1 && found.found.first?.protocols == [.upnp, .pcp, .natPMP])

        var elsewhere = found
        elsewhere.portControl[0].server = IPv4Address(127, 0, 0, 2)
        elsewhere.portControlServer = (IPv4Address(127, 0, 0, 2), pcp.port)
        let entries = elsewhere.found
        #expect(entries.count == 2)
        #expect(entries.map(\.protocols) == [[.upnp], [.pcp, .natPMP]])
        #expect(entries[0].reports.map(\.status) == [.answered, .notAsked, .notAsked])
        #expect(entries[1].identity == "pcp:127.0.0.2")
    }
}
