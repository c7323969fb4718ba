import Foundation
import Testing
@testable import IGDProtocol

/// Issue 7 §4: the Orange LiveBox (WANPPPConnection:2) and the Huawei HG531 (the DSL Forum's
/// WANPPPConnection:1), from their fixtures to the bytes of a request.
@Suite("Router families: LiveBox WANPPPConnection:2 and HG531 DSL Forum WANPPPConnection:1")
struct RouterFamilyTests {
    struct Family: Sendable, CustomTestStringConvertible {
        var fixture: String
        var descriptionURL: String
        var serviceType: String
        var controlURL: String
        var udn: String
        var testDescription: String { fixture }
    }

    static let families = [
        Family(fixture: "orange-livebox/rootDesc.xml", descriptionURL: "http://192.168.1.1:49152/rootDesc.xml",
               serviceType: "urn:schemas-upnp-org:service:WANPPPConnection:2",
               controlURL: "http://192.168.1.1:49152/upnp/control/WANPPPConn1",
               udn: "uuid:0f6c2a10-4b7e-3d21-9a55-00000000b001"),
        Family(fixture: "huawei-hg531/rootDesc.xml", descriptionURL: "http://192.168.1.1:37215/desc/rootDesc.xml",
               serviceType: "urn:dslforum-org:service:WANPPPConnection:1",
               controlURL: "http://192.168.1.1:37215/upnp/control/WANPPPConnection1",
               udn: "uuid:7b1d0c3e-2f4a-4e55-8c6d-00000000c001"),
    ]

    func service(_ family: Family) throws -> ConnectionService {
        let description = try DeviceDescription.parse(try FixtureLoader.bytes(family.fixture))
        let (services, refused) = description.connectionServices(descriptionURL: try GatewayURL(parsing: family.descriptionURL))
        #expect(refused.isEmpty)
        try #require(services.count == 1)
        return services[0]
    }

    @Test("The description yields one WAN connection service, of the advertised type", arguments: families)
    func parsesTheService(_ family: Family) throws {
        let description = try DeviceDescription.parse(try FixtureLoader.bytes(family.fixture))
        #expect(description.identity(descriptionURL: try GatewayURL(parsing: family.descriptionURL)) == family.udn)
        let service = try service(family)
        #expect(service.type.rawValue == family.serviceType)
        #expect(service.type.kind == .ppp)
        #expect(!service.type.isVersion2, "no IGDv2 actions are assumed on a PPP service")
        #expect(service.controlURL.description == family.controlURL)
        let choice = try #require(ServiceSelection.choose([ServiceProbe(service: service, status: nil, externalAddress: nil)]))
        #expect(choice.probe.service == service)
    }

    @Test("AddPortMapping and GetExternalIPAddress carry the exact advertised type in SOAPAction and the body's namespace",
          arguments: families)
    func requestsCarryTheAdvertisedType(_ family: Family) throws {
        let service = try service(family)
        let entry = PortMappingEntry(remoteHost: "", externalPort: 8080, protocol: .tcp, internalPort: 80,
                                     internalClient: "192.168.1.20", enabled: true, description: "web", leaseDuration: 0)
        for request in [Actions.AddPortMapping(entry).request(serviceType: service.type.rawValue),
                        Actions.GetExternalIPAddress().request(serviceType: service.type.rawValue)] {
            #expect(request.soapActionHeader == "\"\(family.serviceType)#\(request.action)\"")
            let envelope = try XMLTree.parse(try request.envelope())
            let call = try #require(envelope.child("Body")?.child(request.action))
            #expect(call.attributes["xmlns:u"] == family.serviceType)
        }
    }

    @Test("A description offering only other services lists them in serviceTypes, in document order")
    func serviceTypesOfADescription() throws {
        let xml = """
            <?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"><device>
            <deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType><UDN>uuid:x</UDN>
            <serviceList><service><serviceType>urn:schemas-upnp-org:service:Layer3Forwarding:1</serviceType></service></serviceList>
            <deviceList><device><UDN>uuid:y</UDN><serviceList>
            <service><serviceType> urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1 </serviceType></service>
            <service><serviceType>urn:schemas-upnp-org:service:Layer3Forwarding:1</serviceType></service>
            </serviceList></device></deviceList></device></root>
            """
        let description = try DeviceDescription.parse(Array(xml.utf8))
        #expect(description.serviceTypes == ["urn:schemas-upnp-org:service:Layer3Forwarding:1", "urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1"])
        #expect(description.connectionServices(descriptionURL: try GatewayURL(parsing: "http://10.0.0.1/d.xml")).services.isEmpty)
    }

    @Test("An empty or blank UDN gets an identity from the description URL's host, not its port", arguments: ["", "   ", "\n\t"])
    func emptyUDNIdentity(udn: String) throws {
        let a = try GatewayURL(parsing: "http://192.168.1.1:5000/rootDesc.xml")
        let aRestarted = try GatewayURL(parsing: "http://192.168.1.1:41234/other.xml")
        let b = try GatewayURL(parsing: "http://192.168.2.1:5000/rootDesc.xml")
        #expect(DeviceDescription.identity(udn: udn, descriptionURL: a) == "uuid:no-udn-192.168.1.1")
        #expect(DeviceDescription.identity(udn: udn, descriptionURL: aRestarted) == "uuid:no-udn-192.168.1.1")
        #expect(DeviceDescription.identity(udn: udn, descriptionURL: b) == "uuid:no-udn-192.168.2.1")
        #expect(DeviceDescription.identity(udn: " uuid:abc \n", descriptionURL: a) == "uuid:abc")
    }
}
