import Foundation
import Testing
@testable import IGDProtocol

@Suite("ServiceSelection")
struct ServiceSelectionTests {
    /// The NTT Modem-SV3's eight WANPPPConnection services, /UD/?6 … /UD/?13.
    static func nttServices() throws -> [ConnectionService] {
        let desc = try DeviceDescription.parse(try FixtureLoader.bytes(Fixture.nttDescription))
        let services = desc.connectionServices(descriptionURL: try GatewayURL(parsing: "http://192.168.1.1:2869/DeviceDescription.xml")).services
        try #require(services.count == 8)
        return services
    }

    static func probe(_ service: ConnectionService, _ status: String?, _ address: String?) -> ServiceProbe {
        ServiceProbe(
            service: service,
            status: status.map { Actions.StatusInfo(connectionStatus: $0, lastConnectionError: "ERROR_NONE", uptime: 10) },
            externalAddress: address.map { ExternalAddress(reported: $0) }
        )
    }

    static func service(_ type: WANService, _ target: String) -> ConnectionService {
        ConnectionService(type: type, serviceId: target, controlURL: GatewayURL(host: IPv4Address(10, 0, 0, 1), port: 5000, target: target), deviceUDN: "uuid:x")
    }

    /// Only the service at `connected` is up; the others report Disconnected and no address.
    static func nttProbes(connected: String, address: String = "11.77.0.1") throws -> [ServiceProbe] {
        try nttServices().map { service in
            service.controlURL.target == connected ? probe(service, "Connected", address) : probe(service, "Disconnected", "0.0.0.0")
        }
    }

    @Test("The one connected NTT service is chosen wherever it is", arguments: ["/UD/?6", "/UD/?9", "/UD/?13"])
    func nttConnectedOne(target: String) throws {
        let choice = try #require(ServiceSelection.choose(try Self.nttProbes(connected: target)))
        #expect(choice.probe.service.controlURL.target == target)
        #expect(choice.probe.service.controlURL.description == "http://192.168.1.1:2869" + target)
        #expect(choice.reason.contains("8 WAN connection services, 1 connected"))
        #expect(choice.reason.contains("the connected one"))
        #expect(choice.reason.contains("11.77.0.1"))
    }

    @Test func nttConnectedOneBehindDoubleNAT() throws {
        // The blog author's modem reported 192.168.1.2: connected, but private.
        let choice = try #require(ServiceSelection.choose(try Self.nttProbes(connected: "/UD/?9", address: "192.168.1.2")))
        #expect(choice.probe.service.controlURL.target == "/UD/?9")
        #expect(choice.probe.externalAddress?.isDoubleNAT == true)
        #expect(choice.reason.contains("(external address 192.168.1.2)"))
    }

    @Test func nttConnectedBeatsPublicButDisconnected() throws {
        var probes = try Self.nttProbes(connected: "/UD/?10", address: "192.168.1.2")
        probes[0] = Self.probe(probes[0].service, "Disconnected", "8.8.8.8")
        let choice = try #require(ServiceSelection.choose(probes))
        #expect(choice.probe.service.controlURL.target == "/UD/?10")
    }

    @Test func twoConnectedPrefersThePublicAddress() throws {
        let services = try Self.nttServices()
        var probes = services.map { Self.probe($0, "Disconnected", "") }
        probes[1] = Self.probe(services[1], "Connected", "192.168.1.2")
        probes[4] = Self.probe(services[4], "Connected", "11.77.0.1")
        let choice = try #require(ServiceSelection.choose(probes))
        #expect(choice.probe.service.controlURL.target == "/UD/?10")
        #expect(choice.reason.contains("8 WAN connection services, 2 connected"))
        #expect(choice.reason.contains("public external address"))
        #expect(choice.reason.contains("11.77.0.1"))
    }

    @Test func twoConnectedBothPrivateTakesTheFirst() throws {
        let services = try Self.nttServices()
        var probes = services.map { Self.probe($0, "Disconnected", "") }
        probes[2] = Self.probe(services[2], "Connected", "192.168.1.2")
        probes[5] = Self.probe(services[5], "Connected", "10.0.0.2")
        let choice = try #require(ServiceSelection.choose(probes))
        #expect(choice.probe.service.controlURL.target == "/UD/?8")
        #expect(choice.reason.contains("2 connected; first connected one"))
        #expect(!choice.reason.contains("public"))
    }

    @Test func noneConnectedTakesTheFirstOfThePreferredType() throws {
        let probes = [
            Self.probe(Self.service(.pppConnection1, "/ppp"), "Disconnected", ""),
            Self.probe(Self.service(.ipConnection1, "/ip1"), "Disconnected", ""),
            Self.probe(Self.service(.ipConnection2, "/ip2a"), "Unconfigured", ""),
            Self.probe(Self.service(.ipConnection2, "/ip2b"), nil, nil),
        ]
        let choice = try #require(ServiceSelection.choose(probes))
        #expect(choice.probe.service.controlURL.target == "/ip2a")
        #expect(choice.reason.contains("4 WAN connection services, 0 connected"))
        #expect(choice.reason.contains("none connected"))
        #expect(choice.reason.contains("(external address none)"))
    }

    @Test func noneConnectedAllNTTTakesDocumentOrder() throws {
        let probes = try Self.nttServices().map { Self.probe($0, "Disconnected", "") }
        let choice = try #require(ServiceSelection.choose(probes))
        #expect(choice.probe.service.controlURL.target == "/UD/?6")
        #expect(choice.reason.contains("8 WAN connection services, 0 connected"))
    }

    @Test("v2 beats v1 when both are connected with public addresses, in either order", arguments: [false, true])
    func version2Preferred(reversed: Bool) throws {
        var probes = [
            Self.probe(Self.service(.ipConnection1, "/v1"), "Connected", "8.8.8.8"),
            Self.probe(Self.service(.ipConnection2, "/v2"), "Connected", "11.77.0.1"),
        ]
        if reversed { probes.reverse() }
        let choice = try #require(ServiceSelection.choose(probes))
        #expect(choice.probe.service.type == .ipConnection2)
        #expect(choice.reason.contains("2 WAN connection services, 2 connected"))
    }

    @Test func connectionStatusIsCaseInsensitive() throws {
        let probes = [
            Self.probe(Self.service(.ipConnection2, "/a"), "Disconnected", "8.8.8.8"),
            Self.probe(Self.service(.pppConnection1, "/b"), "CONNECTED", "192.168.1.2"),
        ]
        let choice = try #require(ServiceSelection.choose(probes))
        #expect(choice.probe.service.controlURL.target == "/b")
        #expect(choice.probe.isConnected)
    }

    @Test func failedProbeIsNotConnected() {
        let probe = ServiceProbe(service: Self.service(.ipConnection1, "/a"), status: nil, externalAddress: nil, failure: "timed out")
        #expect(!probe.isConnected)
        #expect(!probe.hasPublicAddress)
        #expect(probe.failure == "timed out")
    }

    @Test func singleService() throws {
        let choice = try #require(ServiceSelection.choose([Self.probe(Self.service(.ipConnection1, "/only"), "Disconnected", nil)]))
        #expect(choice.probe.service.controlURL.target == "/only")
        #expect(choice.reason == "the only WAN connection service")
    }

    @Test func singleServiceWithAddress() throws {
        let choice = try #require(ServiceSelection.choose([Self.probe(Self.service(.ipConnection2, "/only"), "Connected", "11.77.0.1")]))
        #expect(choice.reason == "the only WAN connection service (external address 11.77.0.1)")
    }

    @Test func noServices() {
        #expect(ServiceSelection.choose([]) == nil)
    }

    static let dslforumPPP1 = WANService(rawValue: "urn:dslforum-org:service:WANPPPConnection:1")!
    static let dslforumIP1 = WANService(rawValue: "urn:dslforum-org:service:WANIPConnection:1")!

    @Test("Service types rank WANIPConnection:2, :1, WANPPPConnection:2, :1, then the DSL Forum's")
    func wanServicePreferenceOrder() {
        let expected: [WANService] = [.ipConnection2, .ipConnection1, .pppConnection2, .pppConnection1, Self.dslforumIP1, Self.dslforumPPP1]
        #expect(expected.reversed().sorted() == expected)
        #expect([Self.dslforumPPP1, .pppConnection1, .ipConnection2, .pppConnection2].sorted() == [.ipConnection2, .pppConnection2, .pppConnection1, Self.dslforumPPP1])
        #expect(WANService.searched == [.ipConnection2, .ipConnection1, .pppConnection1])
        #expect(expected.filter(\.isVersion2) == [.ipConnection2])
    }

    @Test("With nothing connected, WANPPPConnection:2 wins over :1 and over the DSL Forum's, whatever the document order")
    func newestPPPWinsWhenNothingElseDecides() throws {
        let choice = try #require(ServiceSelection.choose([
            Self.probe(Self.service(Self.dslforumPPP1, "/dsl"), "Disconnected", nil),
            Self.probe(Self.service(.pppConnection1, "/ppp1"), "Disconnected", nil),
            Self.probe(Self.service(.pppConnection2, "/ppp2"), "Disconnected", nil),
        ]))
        #expect(choice.probe.service.controlURL.target == "/ppp2")
    }

    @Test("A connected DSL Forum service beats a disconnected standard one")
    func connectedBeatsTheNewerType() throws {
        let choice = try #require(ServiceSelection.choose([
            Self.probe(Self.service(.ipConnection2, "/ip2"), "Disconnected", nil),
            Self.probe(Self.service(Self.dslforumPPP1, "/dsl"), "Connected", "8.8.8.8"),
        ]))
        #expect(choice.probe.service.type == Self.dslforumPPP1)
    }

    @Test("Two services of the same type keep document order")
    func sameTypeKeepsDocumentOrder() throws {
        let choice = try #require(ServiceSelection.choose([
            Self.probe(Self.service(Self.dslforumPPP1, "/first"), "Connected", "8.8.8.8"),
            Self.probe(Self.service(Self.dslforumPPP1, "/second"), "Connected", "8.8.8.8"),
        ]))
        #expect(choice.probe.service.controlURL.target == "/first")
    }
}

@Suite("WANService: a WAN connection service recognised by name, kept as advertised")
struct WANServiceTests {
    @Test("Recognised whatever the domain and version; the advertised text is kept exactly", arguments: [
        ("urn:schemas-upnp-org:service:WANIPConnection:1", WANService.Kind.ip, "schemas-upnp-org", 1),
        ("urn:schemas-upnp-org:service:WANIPConnection:2", .ip, "schemas-upnp-org", 2),
        ("urn:schemas-upnp-org:service:WANPPPConnection:1", .ppp, "schemas-upnp-org", 1),
        ("urn:schemas-upnp-org:service:WANPPPConnection:2", .ppp, "schemas-upnp-org", 2),
        ("urn:dslforum-org:service:WANPPPConnection:1", .ppp, "dslforum-org", 1),
        ("urn:dslforum-org:service:WANIPConnection:1", .ip, "dslforum-org", 1),
        ("urn:schemas-upnp-org:service:WANIPConnection:3", .ip, "schemas-upnp-org", 3),
    ])
    func recognised(text: String, kind: WANService.Kind, domain: String, version: Int) throws {
        let service = try #require(WANService(rawValue: text))
        #expect(service.rawValue == text)
        #expect(service.kind == kind)
        #expect(service.domain == domain)
        #expect(service.version == version)
    }

    @Test("Whitespace around the advertised type is trimmed")
    func trimmed() throws {
        #expect(WANService(rawValue: "\n  urn:dslforum-org:service:WANPPPConnection:1 \t")?.rawValue == "urn:dslforum-org:service:WANPPPConnection:1")
    }

    @Test("Other services and malformed types are not WAN connection services", arguments: [
        "urn:schemas-upnp-org:service:Layer3Forwarding:1",
        "urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1",
        "urn:dslforum-org:service:WANDSLLinkConfig:1",
        "urn:schemas-upnp-org:service:WANIPv6FirewallControl:1",
        "urn:schemas-upnp-org:service:WANIPConnection",
        "urn:schemas-upnp-org:service:WANIPConnection:",
        "urn:schemas-upnp-org:service:WANIPConnection:0",
        "urn:schemas-upnp-org:service:WANIPConnection:-1",
        "urn:schemas-upnp-org:service:WANIPConnection:1:2",
        "urn:schemas-upnp-org:service:WANIPConnection:99999",
        "urn:schemas-upnp-org:device:WANIPConnection:1",
        "urn::service:WANIPConnection:1",
        "urn:a b:service:WANIPConnection:1",
        "urn:schemas-upnp-org:service:wanipconnection:1",
        "WANIPConnection:1",
        "",
    ])
    func notRecognised(text: String) {
        #expect(WANService(rawValue: text) == nil)
    }

    @Test("Encodes as the advertised text and decodes back, the DSL Forum's included")
    func codableRoundTrip() throws {
        let service = try #require(WANService(rawValue: "urn:dslforum-org:service:WANPPPConnection:1"))
        let data = try JSONEncoder().encode([service])
        #expect(String(decoding: data, as: UTF8.self) == #"["urn:dslforum-org:service:WANPPPConnection:1"]"#)
        #expect(try JSONDecoder().decode([WANService].self, from: data) == [service])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([WANService].self, from: Data(#"["urn:x:service:Layer3Forwarding:1"]"#.utf8)) }
    }
}
