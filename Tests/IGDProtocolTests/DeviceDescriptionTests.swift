import Foundation
import Testing
@testable import IGDProtocol

@Suite("DeviceDescription")
struct DeviceDescriptionTests {
    func description(_ path: String) throws -> DeviceDescription {
        try DeviceDescription.parse(try FixtureLoader.bytes(path))
    }

    func url(_ text: String) throws -> GatewayURL { try GatewayURL(parsing: text) }

    /// A minimal description with the given URLBase and services (type, id, controlURL).
    func document(urlBase: String? = nil, services: [(String, String, String)]) -> [UInt8] {
        var xml = "<?xml version=\"1.0\"?><root xmlns=\"urn:schemas-upnp-org:device-1-0\">"
        if let urlBase { xml += "<URLBase>\(urlBase)</URLBase>" }
        xml += "<device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType><UDN>uuid:inline</UDN><serviceList>"
        for (type, id, control) in services {
            xml += "<service><serviceType>\(type)</serviceType><serviceId>\(id)</serviceId><controlURL>\(control)</controlURL></service>"
        }
        xml += "</serviceList></device></root>"
        return Array(xml.utf8)
    }

    // MARK: NTT ADSL Modem-SV3 (the seed)

    @Test func nttDeviceTree() throws {
        let desc = try description(Fixture.nttDescription)
        #expect(desc.urlBase == "http://192.168.1.1:2869/")
        let root = desc.root
        #expect(root.deviceType == "urn:schemas-upnp-org:device:InternetGatewayDevice:1")
        #expect(root.friendlyName == "ADSL Modem-SV3")
        #expect(root.manufacturer == "NTTEAST/NTTWEST")
        #expect(root.modelName == "ADSL Modem-SV3")
        #expect(root.modelNumber == "")
        #expect(root.udn == "uuid:53563300-0101-0000-000ba233dcd7")
        #expect(root.services.map(\.controlURL) == ["/UD/?0", "/UD/?1"])
        #expect(root.services.first?.serviceType == "urn:schemas-upnp-org:service:Layer3Forwarding:1")
        // Three levels: InternetGatewayDevice > WANDevice > WANConnectionDevice.
        #expect(root.allDevices.map(\.udn) == [
            "uuid:53563300-0101-0000-000ba233dcd7",
            "uuid:53563300-0201-0000-000ba233dcd7",
            "uuid:53563300-0301-0000-000ba233dcd7",
        ])
        #expect(root.allDevices.map(\.friendlyName) == ["ADSL Modem-SV3", "WANDevice1", "WANConnectionDevice1"])
        let connectionDevice = try #require(root.devices.first?.devices.first)
        #expect(connectionDevice.deviceType == "urn:schemas-upnp-org:device:WANConnectionDevice:1")
        #expect(connectionDevice.services.count == 9)
        #expect(connectionDevice.services.first?.serviceType == "urn:schemas-upnp-org:service:WANDSLLinkConfig:1")
        #expect(connectionDevice.devices.isEmpty)
    }

    @Test func nttConnectionServices() throws {
        let desc = try description(Fixture.nttDescription)
        let (services, refused) = desc.connectionServices(descriptionURL: try url("http://192.168.1.1:2869/DeviceDescription.xml"))
        #expect(refused.isEmpty)
        #expect(services.count == 8)
        #expect(services.allSatisfy { $0.type == .pppConnection1 })
        let first = try #require(services.first)
        #expect(first.controlURL.description == "http://192.168.1.1:2869/UD/?6")
        #expect(first.controlURL.target == "/UD/?6")
        #expect(first.controlURL.host == IPv4Address(192, 168, 1, 1))
        #expect(first.controlURL.port == 2869)
        #expect(first.controlURL.hostHeader == "192.168.1.1:2869")
        #expect(first.serviceId == "urn:upnp-org:serviceId:WANPPPConn1")
        #expect(first.deviceUDN == "uuid:53563300-0301-0000-000ba233dcd7")
        #expect(services.map(\.controlURL.target) == (6...13).map { "/UD/?\($0)" })
        #expect(services.map(\.serviceId) == (1...8).map { "urn:upnp-org:serviceId:WANPPPConn\($0)" })
        #expect(services.last?.controlURL.description == "http://192.168.1.1:2869/UD/?13")
    }

    @Test func nttURLBaseWinsOverTheDescriptionURLsPort() throws {
        let desc = try description(Fixture.nttDescription)
        let (services, refused) = desc.connectionServices(descriptionURL: try url("http://192.168.1.1/DeviceDescription.xml"))
        #expect(refused.isEmpty)
        #expect(services.first?.controlURL.description == "http://192.168.1.1:2869/UD/?6")
    }

    @Test func nttURLBaseOnAnotherHostThanTheOneAskedIsRefused() throws {
        // Fetched from 192.168.1.2, the URLBase 192.168.1.1 is another host.
        let desc = try description(Fixture.nttDescription)
        let (services, refused) = desc.connectionServices(descriptionURL: try url("http://192.168.1.2:2869/DeviceDescription.xml"))
        #expect(services.count == 8)
        #expect(services.first?.controlURL.description == "http://192.168.1.2:2869/UD/?6")
        #expect(refused.count == 1)
        #expect(refused.first?.contains("URLBase") == true)
    }

    // MARK: miniupnpd 2.3.1

    @Test func miniupnpdIGDv2() throws {
        let desc = try description(Fixture.miniupnpdV2)
        #expect(desc.urlBase == nil)
        #expect(desc.root.deviceType == "urn:schemas-upnp-org:device:InternetGatewayDevice:2")
        #expect(desc.root.friendlyName == "portkeeper lab gateway (t1)")
        #expect(desc.root.manufacturer == "Debian")
        #expect(desc.root.modelNumber == "lab-v2")
        #expect(desc.root.udn == "uuid:221a4d65-f3ae-4e19-bef3-3612cb8daf34")
        #expect(desc.root.allDevices.count == 3)
        let (services, refused) = desc.connectionServices(descriptionURL: try url("http://192.168.77.1:5000/rootDesc.xml"))
        #expect(refused.isEmpty)
        #expect(services == [
            ConnectionService(
                type: .ipConnection2, serviceId: "urn:upnp-org:serviceId:WANIPConn1",
                controlURL: GatewayURL(host: IPv4Address(192, 168, 77, 1), port: 5000, target: "/ctl/IPConn"),
                deviceUDN: "uuid:221a4d65-f3ae-4e19-bef3-3612cb8daf36"
            ),
        ])
        #expect(services.first?.controlURL.description == "http://192.168.77.1:5000/ctl/IPConn")
        #expect(services.first?.type.isVersion2 == true)
    }

    @Test func miniupnpdIGDv1() throws {
        let desc = try description(Fixture.miniupnpdV1)
        #expect(desc.root.deviceType == "urn:schemas-upnp-org:device:InternetGatewayDevice:1")
        #expect(desc.root.friendlyName == "portkeeper lab gateway (t2)")
        #expect(desc.root.modelNumber == "lab-v1")
        let (services, refused) = desc.connectionServices(descriptionURL: try url("http://192.168.77.1:5000/rootDesc.xml"))
        #expect(refused.isEmpty)
        #expect(services.count == 1)
        let service = try #require(services.first)
        #expect(service.type == .ipConnection1)
        #expect(service.type.isVersion2 == false)
        #expect(service.controlURL.description == "http://192.168.77.1:5000/ctl/IPConn")
        #expect(service.deviceUDN == "uuid:ff1b8053-4c83-4f63-8ef9-e3b64c51b238")
    }

    // MARK: synthetic descriptions

    @Test func noURLBaseRelativeControlURLs() throws {
        let desc = try description(Fixture.noURLBaseRelative)
        #expect(desc.urlBase == nil)
        #expect(desc.root.allDevices.count == 3)
        let (services, refused) = desc.connectionServices(descriptionURL: try url("http://10.0.0.1:5000/desc/root.xml"))
        #expect(refused.isEmpty)
        #expect(services.map(\.type) == [.ipConnection1, .pppConnection1])
        #expect(services.map(\.controlURL.description) == ["http://10.0.0.1:5000/desc/ctl/IPConn", "http://10.0.0.1:5000/ctl/PPPConn"])
        #expect(services.first?.controlURL.target == "/desc/ctl/IPConn")
        #expect(services.allSatisfy { $0.deviceUDN == "uuid:00000000-0000-0000-0000-000000000003" })
    }

    @Test func urlBaseOnAnotherHostFallsBackToTheDescriptionURL() throws {
        let desc = try description(Fixture.urlBaseOtherHost)
        #expect(desc.urlBase == "http://10.0.0.99:8080/")
        let (services, refused) = desc.connectionServices(descriptionURL: try url("http://10.0.0.1:5000/rootDesc.xml"))
        #expect(services.map(\.controlURL.description) == ["http://10.0.0.1:5000/ctl/IPConn"])
        #expect(refused.count == 1)
        let reason = try #require(refused.first)
        #expect(reason.contains("URLBase"))
        #expect(reason.contains("10.0.0.99"))
    }

    @Test func controlURLOnAnotherHostIsRefused() throws {
        let desc = try description(Fixture.controlURLOtherHost)
        let (services, refused) = desc.connectionServices(descriptionURL: try url("http://10.0.0.1:5000/rootDesc.xml"))
        #expect(services.map(\.type) == [.pppConnection1])
        #expect(services.first?.controlURL.description == "http://10.0.0.1:5000/ctl/PPPConn")
        #expect(refused.count == 1)
        let reason = try #require(refused.first)
        #expect(reason.contains("urn:upnp-org:serviceId:WANIPConn1"))
        #expect(reason.contains("10.0.0.99"))
    }

    @Test("A URLBase that is not an acceptable gateway URL is refused and the description URL used", arguments: [
        "https://10.0.0.1:5000/", "http://router.local:5000/", "http://user@10.0.0.1:5000/", "ftp://10.0.0.1/",
    ])
    func unacceptableURLBase(urlBase: String) throws {
        let desc = try DeviceDescription.parse(document(urlBase: urlBase, services: [(WANServiceType.ip1, "ip", "/ctl/IPConn")]))
        #expect(desc.urlBase == urlBase)
        let (services, refused) = desc.connectionServices(descriptionURL: try url("http://10.0.0.1:5000/rootDesc.xml"))
        #expect(services.map(\.controlURL.description) == ["http://10.0.0.1:5000/ctl/IPConn"])
        #expect(refused.count == 1)
        #expect(refused.first?.contains("URLBase") == true)
    }

    @Test func urlBaseWithAPathIsTheBaseForRelativeReferences() throws {
        let desc = try DeviceDescription.parse(document(urlBase: "http://10.0.0.1:6000/base/", services: [(WANServiceType.ip1, "ip", "ctl/IPConn")]))
        let (services, refused) = desc.connectionServices(descriptionURL: try url("http://10.0.0.1:5000/rootDesc.xml"))
        #expect(refused.isEmpty)
        #expect(services.first?.controlURL.description == "http://10.0.0.1:6000/base/ctl/IPConn")
    }

    @Test func emptyURLBaseIsNoURLBase() throws {
        let desc = try DeviceDescription.parse(document(urlBase: "  ", services: []))
        #expect(desc.urlBase == nil)
    }

    @Test("Control URLs that are refused", arguments: [
        "", "https://10.0.0.1:5000/ctl", "http://10.0.0.2:5000/ctl", "//10.0.0.2/ctl", "http://router.local/ctl",
    ])
    func refusedControlURL(control: String) throws {
        let desc = try DeviceDescription.parse(document(services: [
            (WANServiceType.ip2, "bad", control), (WANServiceType.ppp1, "good", "/ctl/PPP"),
        ]))
        let (services, refused) = desc.connectionServices(descriptionURL: try url("http://10.0.0.1:5000/rootDesc.xml"))
        #expect(services.map(\.serviceId) == ["good"])
        #expect(refused.count == 1)
        #expect(refused.first?.hasPrefix("bad: ") == true)
    }

    /// However a reference is resolved, what reaches the request line has no raw whitespace.
    @Test("Resolved control URLs never carry whitespace", arguments: ["/ctl/a b", "ctl/a b", "/ctl/a\tb", "/ctl/a%20b"])
    func resolvedControlURLHasNoWhitespace(control: String) throws {
        let desc = try DeviceDescription.parse(document(services: [(WANServiceType.ip1, "ip", control)]))
        let (services, refused) = desc.connectionServices(descriptionURL: try url("http://10.0.0.1:5000/rootDesc.xml"))
        #expect(services.count + refused.count == 1)
        for service in services {
            #expect(!service.controlURL.target.contains { $0.isWhitespace })
            #expect(!service.controlURL.description.contains { $0.isWhitespace })
        }
    }

    /// A later version is recognised (UPnP versions are backward compatible) and kept as advertised;
    /// the name part must match exactly, case included.
    @Test func onlyWANConnectionServicesAreReturnedAndTypesMatchExactly() throws {
        let desc = try DeviceDescription.parse(document(services: [
            ("urn:schemas-upnp-org:service:Layer3Forwarding:1", "l3f", "/ctl/L3F"),
            ("urn:schemas-upnp-org:service:WANIPConnection:3", "future", "/ctl/IP3"),
            ("urn:schemas-upnp-org:service:wanipconnection:1", "lower", "/ctl/lower"),
            ("  urn:schemas-upnp-org:service:WANIPConnection:1\n", "padded", "/ctl/IP1"),
        ]))
        let (services, refused) = desc.connectionServices(descriptionURL: try url("http://10.0.0.1/rootDesc.xml"))
        #expect(refused.isEmpty)
        #expect(services.map(\.serviceId) == ["future", "padded"])
        #expect(services.map(\.type.rawValue) == ["urn:schemas-upnp-org:service:WANIPConnection:3", "urn:schemas-upnp-org:service:WANIPConnection:1"])
        #expect(services.last?.controlURL.description == "http://10.0.0.1/ctl/IP1")
    }

    // MARK: refusals

    @Test func rootElementMustBeRoot() {
        let error = #expect(throws: ProtocolViolation.self) {
            try DeviceDescription.parse(Array("<scpd><device/></scpd>".utf8))
        }
        #expect(error?.description.contains("<scpd>") == true)
    }

    @Test func rootWithoutDeviceIsRefused() {
        #expect(throws: ProtocolViolation.self) {
            try DeviceDescription.parse(Array("<root><URLBase>http://10.0.0.1/</URLBase></root>".utf8))
        }
    }

    @Test func missingFieldsAreEmpty() throws {
        let desc = try DeviceDescription.parse(Array("<root><device><serviceList><service/></serviceList></device></root>".utf8))
        #expect(desc.root.friendlyName == "")
        #expect(desc.root.udn == "")
        #expect(desc.root.services == [DeviceDescription.Service(serviceType: "", serviceId: "", controlURL: "")])
    }

    /// `levels` devices, each embedded in the previous one's deviceList.
    func nestedDevices(_ levels: Int) -> [UInt8] {
        var xml = "<root>"
        for level in 0..<levels {
            xml += "<device><UDN>uuid:level\(level)</UDN>"
            if level < levels - 1 { xml += "<deviceList>" }
        }
        for level in (0..<levels).reversed() {
            if level < levels - 1 { xml += "</deviceList>" }
            xml += "</device>"
        }
        return Array((xml + "</root>").utf8)
    }

    @Test func eightLevelsOfDevicesAreAcceptedNineAreNot() throws {
        let desc = try DeviceDescription.parse(nestedDevices(8))
        #expect(desc.root.allDevices.map(\.udn) == (0..<8).map { "uuid:level\($0)" })
        let error = #expect(throws: ProtocolViolation.self) { try DeviceDescription.parse(nestedDevices(9)) }
        #expect(error?.description.contains("deeper than 8") == true)
    }

    @Test("Hostile XML is refused", arguments: [Fixture.billionLaughs, Fixture.doctypeLowercase, Fixture.externalEntity, Fixture.deepNesting40])
    func hostileXML(path: String) throws {
        let bytes = try FixtureLoader.bytes(path)
        #expect(throws: ProtocolViolation.self) { try DeviceDescription.parse(bytes) }
    }

    @Test func connectionServiceIsCodable() throws {
        let desc = try description(Fixture.nttDescription)
        let services = desc.connectionServices(descriptionURL: try url("http://192.168.1.1:2869/DeviceDescription.xml")).services
        let encoder = JSONEncoder()
        let data = try encoder.encode(services)
        #expect(try JSONDecoder().decode([ConnectionService].self, from: data) == services)
    }
}
