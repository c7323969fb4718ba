import Foundation
import IGDClient
import IGDProtocol
import IGDTestSupport
import MappingRegistry
@testable import PortKeeper
import Testing

/// Double NAT seen from inside: the inner router (private external address) and the outer one
/// (public) both answer discovery. No command picks one by itself.
@Suite("Two gateways answering")
struct TwoGatewaysTests {
    @Test("Two gateways found: the command demands --gateway and names both with their external addresses")
    func demandsAChoice() async throws {
        let inner = try await SimulatedGateway.start(profile: try .seedRouter(externalIP: "192.168.1.2"), ssdp: false)
        let outer = try await SimulatedGateway.start(profile: .igdv2(externalIP: "60.32.1.5"), ssdp: false)
        let gateways = [(inner.profile.udn, inner.descriptionURL), (outer.profile.udn, outer.descriptionURL)]
        let responder = try await FakeSSDPResponder.start { search in
            guard search.method.uppercased() == "M-SEARCH" else { return [] }
            return gateways.map { udn, location in
                FakeSSDPDatagram.searchResponse(st: "urn:schemas-upnp-org:device:InternetGatewayDevice:1",
                                                usn: "\(udn)::urn:schemas-upnp-org:device:InternetGatewayDevice:1", location: location)
            }
        }
        let (registry, scratch) = try temporaryRegistry("two")
        defer { scratch.remove() }
        do {
            // A generous window: the search still ends 200 ms after the first answer.
            var discovery = GatewayBehaviourTests.loopbackDiscovery(port: responder.port)
            discovery.window = .seconds(20)
            // Generous limits too: the probes that learn the external addresses must not time
            // out on a busy machine.
            let client = GatewayClient(limits: HTTPLimits(connectTimeout: .seconds(10), readTimeout: .seconds(20), deadline: .seconds(20)))
            let keeper = Keeper(registry: registry, client: client, discovery: discovery, command: "test")
            let error = await #expect(throws: PortKeeperError.self) { try await keeper.gateway(nil) }
            let text = error?.description ?? ""
            #expect(text.hasPrefix("2 gateways answered: "), "\(text)")
            #expect(text.contains("\(inner.profile.udn) 'ADSL Modem-SV3' at \(inner.descriptionURL), external 192.168.1.2 (private)"), "\(text)")
            #expect(text.contains("\(outer.profile.udn)"), "\(text)")
            #expect(text.contains("external 60.32.1.5 (public)"), "\(text)")
            // What to try (choose one with --gateway) is the CLI's to say (PortKeeperCLITests).
            #expect(error?.kind == .ambiguous && error?.context == .severalGateways)
            #expect(!text.contains("\n"))
            // Both are recorded, so that --gateway can name either without a new search.
            #expect(try registry.gateways().count == 2)
            #expect(inner.actionCount("AddPortMapping") == 0 && outer.actionCount("AddPortMapping") == 0)
        } catch {
            await responder.shutdown(); await inner.shutdown(); await outer.shutdown()
            throw error
        }
        await responder.shutdown(); await inner.shutdown(); await outer.shutdown()
    }
}
