import Foundation
import IGDTestSupport
import Testing

/// What `lab-probe pmp-…`/`pcp-…` print: the answer of portkeeper's NAT-PMP/PCP client.
private struct ProbeAnswer: Decodable, Equatable {
    var natPMPOnly: Bool
    var result: String?
    var epoch: UInt32?
    var externalAddress: String?
    var internalPort: UInt16?
    var externalPort: UInt16?
    var lifetime: UInt32?
    var clientAddress: String
    var requestsSent: Int
}

private let nonceA = "00112233445566778899aabb"
private let nonceB = "bbaa99887766554433221100"

extension Lab {
    /// Runs portkeeper's NAT-PMP/PCP client (lab-probe) on the LAN client against the gateway.
    fileprivate func portControl(_ arguments: [String]) async throws -> ProbeAnswer {
        let command = [arguments[0], Lab.lanGateway] + arguments.dropFirst()
        let result = try await probe(command)
        try #require(result.status == 0, "lab-probe \(command): \(result.stdout)\(result.stderr)")
        return try JSONDecoder().decode(ProbeAnswer.self, from: Data(result.stdout.utf8))
    }

    /// Opens a TCP connection from outside until it reaches the LAN server (the rule may take a
    /// moment on a busy machine); what the server said, or nil after ~10 s.
    fileprivate func reachFromOutside(port: UInt16) async throws -> String? {
        for _ in 0..<100 {
            if let reply = try await connectFromOutside(port: port) { return reply }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }
}

/// portkeeper's own NAT-PMP/PCP client (IGDClient.PortControlClient, driven by lab-probe inside
/// the LAN namespace) against the real miniupnpd, cross-checked with natpmpc, upnpc, the nft
/// chain and TCP from the outside host (issue 9 §5). Serialized: each test builds its own lab.
@Suite("Lab: portkeeper's NAT-PMP/PCP client", .serialized, labEnabled, natpmpcLabEnabled)
struct LabPortControlTests {
    @Test("on v2-pmp, the client's NAT-PMP and PCP mappings are listed by upnpc, carry TCP from outside, and only the mapping's nonce deletes a PCP one")
    func onV2PMP() async throws {
        try await withLab(.v2PMP) { lab in try await Self.flow(lab) }
    }

    @Test("on pcp-only, the client's NAT-PMP and PCP mappings carry TCP from outside, and only the mapping's nonce deletes a PCP one")
    func onPCPOnly() async throws {
        try await withLab(.pcpOnly) { lab in try await Self.flow(lab) }
    }

    @Test("with max_lifetime=60, a PCP MAP asking for 3600 s is granted 60")
    func pcpLifetimeCapped() async throws {
        try await withLab(.pcpOnly, lifetimes: .fastExpiry) { lab in
            let granted = try await lab.portControl(["pcp-map", nonceA, "TCP", "9393", "9393", "3600"])
            #expect(granted.result == "SUCCESS", "\(granted)")
            #expect(granted.lifetime == 60, "\(granted)")
            #expect(granted.externalPort == 9393, "\(granted)")
            #expect(try await lab.forwards().contains(LabForward(protocol: "TCP", externalPort: 9393, internalClient: Lab.lanClient, internalPort: 9393)))
        }
    }

    /// The same flow on either profile; upnpc is asked only where UPnP is served.
    static func flow(_ lab: Lab) async throws {
        // The external address, as natpmpc sees it.
        let address = try await lab.portControl(["pmp-address"])
        let reference = try await lab.natpmpPublicAddress()
        #expect(address.result == "Success", "\(address)")
        #expect(address.externalAddress == Lab.wanGateway)
        #expect(address.externalAddress == reference.publicAddress, "\(reference.output)")
        #expect(address.clientAddress == Lab.lanClient)

        let announce = try await lab.portControl(["pcp-announce"])
        #expect(announce.natPMPOnly == false && announce.result == "SUCCESS", "\(announce)")

        let nat = try lab.startBackground(on: .lan, ["socat", "TCP-LISTEN:9191,reuseaddr,fork", "SYSTEM:echo hello-over-natpmp"])
        defer { _ = nat.terminate() }
        let pcp = try lab.startBackground(on: .lan, ["socat", "TCP-LISTEN:9292,reuseaddr,fork", "SYSTEM:echo hello-over-pcp"])
        defer { _ = pcp.terminate() }
        try await lab.waitUntilListening(on: .lan, tcpPort: 9191)
        try await lab.waitUntilListening(on: .lan, tcpPort: 9292)

        // NAT-PMP.
        let mapped = try await lab.portControl(["pmp-map", "TCP", "9191", "9191", "3600"])
        #expect(mapped.result == "Success", "\(mapped)")
        #expect(mapped.internalPort == 9191 && mapped.externalPort == 9191 && mapped.lifetime == 3600, "\(mapped)")
        #expect(try await lab.forwards().contains(LabForward(protocol: "TCP", externalPort: 9191, internalClient: Lab.lanClient, internalPort: 9191)))
        #expect(try await lab.reachFromOutside(port: 9191)?.contains("hello-over-natpmp") == true)

        // PCP.
        let granted = try await lab.portControl(["pcp-map", nonceA, "TCP", "9292", "9292", "3600"])
        #expect(granted.result == "SUCCESS", "\(granted)")
        #expect(granted.internalPort == 9292 && granted.externalPort == 9292, "\(granted)")
        #expect(granted.externalAddress == Lab.wanGateway, "\(granted)")
        #expect(granted.lifetime.map { $0 > 0 && $0 <= 3600 } == true, "\(granted)")
        #expect(granted.clientAddress == Lab.lanClient)
        #expect(try await lab.forwards().contains(LabForward(protocol: "TCP", externalPort: 9292, internalClient: Lab.lanClient, internalPort: 9292)))
        #expect(try await lab.reachFromOutside(port: 9292)?.contains("hello-over-pcp") == true)

        if lab.profile.servesUPnP {
            let listed = try await lab.upnpcList()
            #expect(listed.contains { $0.externalPort == 9191 && $0.proto == "TCP" && $0.internalClient == Lab.lanClient && $0.internalPort == 9191 }, "\(listed)")
            #expect(listed.contains { $0.externalPort == 9292 && $0.proto == "TCP" && $0.internalClient == Lab.lanClient && $0.internalPort == 9292 }, "\(listed)")
        }

        // A delete with another nonce is refused and the mapping stays.
        let refused = try await lab.portControl(["pcp-map", nonceB, "TCP", "9292", "0", "0"])
        #expect(refused.result == "NOT_AUTHORIZED", "\(refused)")
        #expect(try await lab.forwards().contains { $0.externalPort == 9292 }, "the mapping stays after a delete with another nonce")

        // The mapping's own nonce deletes it; NAT-PMP's delete removes its mapping.
        let deleted = try await lab.portControl(["pcp-map", nonceA, "TCP", "9292", "0", "0"])
        #expect(deleted.result == "SUCCESS", "\(deleted)")
        #expect(deleted.lifetime == 0, "\(deleted)")
        let unmapped = try await lab.portControl(["pmp-map", "TCP", "9191", "0", "0"])
        #expect(unmapped.result == "Success" && unmapped.lifetime == 0, "\(unmapped)")
        #expect(try await lab.forwards().isEmpty)
        #expect(try await lab.connectFromOutside(port: 9292) == nil)
    }
}
