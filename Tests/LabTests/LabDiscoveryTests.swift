import Foundation
import IGDTestSupport
import Testing

/// What `discover --json` says of one protocol.
private struct ProtocolReport: Decodable, Equatable {
    var `protocol`: String
    var status: String
    var externalIP: String?
    var epoch: UInt32?
}

/// A gateway in `discover --json`: the fields the protocols added, for either list.
private struct FoundGateway: Decodable {
    var identity: String?
    var udn: String?
    var lanAddress: String
    var hardwareAddress: String?
    var protocols: [ProtocolReport]
    var preferredProtocol: String
}

extension Lab {
    /// The gateway's MAC on the LAN, as the kernel there reports it.
    func gatewayLANHardwareAddress() async throws -> String {
        let result = try await run(on: .gateway, ["cat", "/sys/class/net/lan0/address"])
        try #require(result.status == 0, "\(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// discover on the LAN client of the real miniupnpd, which serves UPnP IGD, NAT-PMP and PCP from
/// one table (v2-pmp) or NAT-PMP and PCP alone (pcp-only): the probe goes to the LAN's default
/// gateway as on a real network (issue 9 §1).
@Suite("Lab: discover over three protocols", .serialized, labEnabled)
struct LabDiscoveryTests {
    @Test("on v2-pmp, the gateway is one gateway answering UPnP IGD, PCP and NAT-PMP, the same external address, using UPnP IGD")
    func v2PMP() async throws {
        try await withLab(.v2PMP) { lab in
            // --timeout: the probe has the whole window, so that a busy machine cannot end it
            // (300 ms after it started, once UPnP is done) before miniupnpd's answers arrive.
            let result = try await lab.portkeeper(["discover", "--json", "--timeout", "3"])
            let gateways = try decode([FoundGateway].self, "gateways", result)
            let others = try decode([FoundGateway].self, "portControlGateways", result)
            try #require(gateways.count == 1, "\(result.stdout)")
            #expect(others.isEmpty, "\(result.stdout)")
            let gateway = gateways[0]
            #expect(gateway.udn?.hasPrefix("uuid:") == true)
            #expect(gateway.lanAddress == Lab.lanGateway)
            #expect(gateway.protocols.map(\.protocol) == ["upnp", "pcp", "natpmp"])
            #expect(gateway.protocols.map(\.status) == ["answered", "answered", "answered"], "\(result.stdout)")
            #expect(gateway.protocols[0].externalIP == Lab.wanGateway)
            #expect(gateway.protocols[2].externalIP == Lab.wanGateway)
            #expect(gateway.protocols[1].epoch != nil)
            #expect(gateway.preferredProtocol == "upnp")
            #expect(gateway.hardwareAddress == (try await lab.gatewayLANHardwareAddress()))

            let text = try await lab.portkeeper(["discover"])
            #expect(text.status == 0, "\(text.stderr)")
            #expect(text.stdout.contains("uses          UPnP IGD"), "\(text.stdout)")
        }
    }

    @Test("on pcp-only, the gateway answers PCP and NAT-PMP, not UPnP IGD: found by its LAN address, using PCP")
    func pcpOnly() async throws {
        try await withLab(.pcpOnly) { lab in
            let result = try await lab.portkeeper(["discover", "--json"])
            #expect(result.status == 0, "\(result.stderr)")
            let gateways = try decode([FoundGateway].self, "gateways", result)
            let others = try decode([FoundGateway].self, "portControlGateways", result)
            #expect(gateways.isEmpty, "\(result.stdout)")
            try #require(others.count == 1, "\(result.stdout)")
            let gateway = others[0]
            #expect(gateway.identity == "pcp:\(Lab.lanGateway)/\(try await lab.gatewayLANHardwareAddress())")
            #expect(gateway.lanAddress == Lab.lanGateway)
            #expect(gateway.protocols.map(\.status) == ["no-answer", "answered", "answered"], "\(result.stdout)")
            #expect(gateway.protocols[2].externalIP == Lab.wanGateway)
            #expect(gateway.preferredProtocol == "pcp")
            #expect(gateway.hardwareAddress == (try await lab.gatewayLANHardwareAddress()))

            let text = try await lab.portkeeper(["discover"])
            #expect(text.status == 0, "\(text.stderr)")
            #expect(text.stdout.contains("PCP gateway \(Lab.lanGateway)"), "\(text.stdout)")
            #expect(text.stdout.contains("uses          PCP: PCP answers (UPnP IGD does not)"), "\(text.stdout)")
        }
    }

    @Test("on v2 (no NAT-PMP/PCP served), PCP and NAT-PMP did not answer and discover still finds the UPnP gateway")
    func v2WithoutPortControl() async throws {
        try await withLab(.v2) { lab in
            let result = try await lab.portkeeper(["discover", "--json"])
            let gateways = try decode([FoundGateway].self, "gateways", result)
            try #require(gateways.count == 1, "\(result.stdout)")
            #expect(gateways[0].protocols.map(\.status) == ["answered", "no-answer", "no-answer"], "\(result.stdout)")
            #expect(gateways[0].preferredProtocol == "upnp")
        }
    }
}
