import Foundation
import IGDClient
import IGDProtocol
import IGDTestSupport
import MappingRegistry
@testable import PortKeeper
import Testing

/// `--gateway` (and a file's `gateway:`) is read by one parser and means the same in every
/// command: a UDN, a unique prefix of one, a friendly name or a description URL. A name is
/// looked up in the registry only, never searched for on the network.
@Suite("Gateway references")
struct GatewayReferenceTests {
    @Test("The parser tells a description URL from a name, and nothing from both")
    func parsing() throws {
        #expect(try GatewayReference(parsing: nil) == .any)
        #expect(try GatewayReference(parsing: "  ") == .any)
        #expect(try GatewayReference(parsing: "uuid:0bd2") == .name("uuid:0bd2"))
        #expect(try GatewayReference(parsing: " Memory Router ") == .name("Memory Router"))
        #expect(try GatewayReference(parsing: "http://192.168.1.1:5000/rootDesc.xml")
            == .descriptionURL(GatewayURL(host: IPv4Address(192, 168, 1, 1), port: 5000, target: "/rootDesc.xml")))
        let error = #expect(throws: PortKeeperError.self) { try GatewayReference(parsing: "http://router.local:5000/rootDesc.xml") }
        #expect(error?.kind == .invalidInput)
        #expect(error?.context == .gatewayReference)
    }

    @Test("The registry finds a known gateway by UDN, prefix, name and description URL alike")
    func registryResolvesEveryForm() throws {
        let bench = try InMemoryBench()
        defer { bench.remove() }
        let id = bench.gatewayID
        for text in [nil, "uuid:in-memory", "in-mem", "uuid:in-mem", "Memory Router", "http://192.0.2.1:5000/desc.xml"] {
            #expect(try bench.registry.gateway(try GatewayReference(parsing: text)).id == id, "\(text ?? "nil")")
        }
        let unknownURL = #expect(throws: RegistryError.self) { try bench.registry.gateway(try GatewayReference(parsing: "http://192.0.2.9/desc.xml")) }
        #expect(unknownURL?.kind == .notFound)
        #expect(unknownURL?.context == .unknownGateway)
        let unknownName = #expect(throws: RegistryError.self) { try bench.registry.gateway(.name("Other Router")) }
        #expect(unknownName?.context == .unknownGateway)
    }

    @Test("A name the registry does not know is an error, not a network search (a gateway answering discovery is not asked)")
    func unknownNameNeverSearches() async throws {
        let gateway = try await SimulatedGateway.start(profile: .igdv2(), ssdp: true)
        let (registry, scratch) = try temporaryRegistry("reference-unknown")
        defer { scratch.remove() }
        do {
            let keeper = Keeper(registry: registry, client: roomyClient(), discovery: GatewayBehaviourTests.loopbackDiscovery(port: gateway.ssdpPort ?? 0), command: "test")
            // Its own UDN: a search would find it.
            for reference in [gateway.profile.udn, "uuid:", "Some Router"] {
                let recorded = await #expect(throws: RegistryError.self) { try await keeper.gateway(reference) }
                #expect(recorded?.context == .unknownGateway, "\(reference)")
                let live = await #expect(throws: RegistryError.self) { try await keeper.liveGateway(reference) }
                #expect(live?.context == .unknownGateway, "\(reference)")
            }
            #expect(gateway.searches.isEmpty)
            #expect(gateway.requests.isEmpty)
            #expect(try registry.gateways().isEmpty)
        } catch {
            await gateway.shutdown()
            throw error
        }
        await gateway.shutdown()
    }
}
