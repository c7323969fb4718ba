import ArgumentParser
import IGDClient
import IGDProtocol
@testable import portkeeper
import Testing

/// `$PORTKEEPER_PCP_SERVER` and the rule that keeps tests off real networks (issue 9 §1).
@Suite("Where discover's NAT-PMP/PCP probe goes, from the environment")
struct PortControlEnvironmentTests {
    @Test("unset: the default gateway; unset beside PORTKEEPER_SSDP_TARGET: no probe at all")
    func defaults() throws {
        #expect(try DiscoveryArguments.portControlTarget([:]) == .automatic)
        #expect(try DiscoveryArguments.portControlTarget(["PORTKEEPER_PCP_SERVER": ""]) == .automatic)
        #expect(try DiscoveryArguments.portControlTarget(["PORTKEEPER_SSDP_TARGET": "127.0.0.1:9"]) == .off)
        // An SSDP target that is not one is ignored as before, so the default stays.
        #expect(try DiscoveryArguments.portControlTarget(["PORTKEEPER_SSDP_TARGET": "nonsense"]) == .automatic)
    }

    @Test("IPv4:PORT names the server, off sends no probe, with or without an SSDP target")
    func named() throws {
        #expect(try DiscoveryArguments.portControlTarget(["PORTKEEPER_PCP_SERVER": "127.0.0.1:5351"]) == .server(IPv4Address(127, 0, 0, 1), port: 5351))
        #expect(try DiscoveryArguments.portControlTarget(["PORTKEEPER_PCP_SERVER": "10.0.0.1:40000", "PORTKEEPER_SSDP_TARGET": "127.0.0.1:9"]) == .server(IPv4Address(10, 0, 0, 1), port: 40000))
        #expect(try DiscoveryArguments.portControlTarget(["PORTKEEPER_PCP_SERVER": "off"]) == .off)
    }

    @Test("anything else is refused with a line naming the variable", arguments: ["127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "localhost:5351", "127.0.0.1:53x", "OFF", ":5351", "1.2.3.4:-1"])
    func refused(value: String) {
        let error = #expect(throws: ValidationError.self) { try DiscoveryArguments.portControlTarget(["PORTKEEPER_PCP_SERVER": value]) }
        #expect(error?.message.hasPrefix("PORTKEEPER_PCP_SERVER must be IPv4:PORT or off, not '") == true)
    }
}
