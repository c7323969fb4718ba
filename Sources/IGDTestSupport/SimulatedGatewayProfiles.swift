import Foundation

extension SimulatedGateway.Profile {
    /// The NTT "ADSL Modem-SV3": the fixture description with its URLBase pointed at the fake
    /// server, eight WANPPPConnection:1 services at /UD/?6 … /UD/?13 of which only
    /// `connectedPath` is connected (nil: none), HTTP 500 with an empty body past the end of the
    /// mapping list, and one disabled "Webサーバ (HTTP)" mapping of port 80. IGDv1 only.
    public static func seedRouter(
        connectedPath: String? = "/UD/?6",
        externalIP: String = "203.0.113.7",
        listEnd: SimulatedGateway.ListEnd = .http500Empty
    ) throws -> SimulatedGateway.Profile {
        let fixture = try Fixtures.string("ntt-adsl-modem-sv3/DeviceDescription.xml")
        guard let open = fixture.range(of: "<URLBase>"),
              let close = fixture.range(of: "</URLBase>", range: open.upperBound..<fixture.endIndex)
        else { throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "the seed router fixture has no URLBase"]) }
        let template = fixture.replacingCharacters(in: open.upperBound..<close.lowerBound, with: "{{BASE}}/")

        var controlPaths: [String: SimulatedGateway.ConnectionState] = [:]
        for index in 6...13 {
            let path = "/UD/?\(index)"
            controlPaths[path] = path == connectedPath ? .connected(externalIP: externalIP) : .disconnected
        }
        return SimulatedGateway.Profile(
            descriptionXML: template,
            descriptionPath: "/DeviceDescription.xml",
            serviceType: "urn:schemas-upnp-org:service:WANPPPConnection:1",
            controlPaths: controlPaths,
            udn: "uuid:53563300-0101-0000-000ba233dcd7",
            supportsListOfPortMappings: false,
            listEnd: listEnd,
            initialMappings: [
                SimulatedGateway.Mapping(
                    remoteHost: "",
                    externalPort: 80,
                    protocol: "TCP",
                    internalPort: 80,
                    internalClient: "",
                    enabled: false,
                    description: "Webサーバ (HTTP)",
                    leaseDuration: 0
                ),
            ],
            maxEntries: 32,
            permanentLeasesOnly: false
        )
    }

    /// A small IGDv1 gateway whose description has no URLBase and relative control URLs: served
    /// at /desc/root.xml, its WANIPConnection:1 control URL "ctl/IPConn" resolves to
    /// /desc/ctl/IPConn. Connected, fault 713 past the end of the mapping list.
    public static func noURLBase(
        externalIP: String = "203.0.113.7",
        initialMappings: [SimulatedGateway.Mapping] = []
    ) -> SimulatedGateway.Profile {
        SimulatedGateway.Profile(
            descriptionXML: noURLBaseDescription,
            descriptionPath: "/desc/root.xml",
            serviceType: "urn:schemas-upnp-org:service:WANIPConnection:1",
            controlPaths: ["/desc/ctl/IPConn": .connected(externalIP: externalIP)],
            udn: "uuid:5e1f0a4c-7d3b-4c2a-9f10-00000000a001",
            supportsListOfPortMappings: false,
            listEnd: .fault713,
            initialMappings: initialMappings
        )
    }

    /// A small IGDv2 gateway (WANIPConnection:2 at /ctl/IPConn, description at /rootDesc.xml,
    /// no URLBase) offering GetListOfPortMappings, fault 713 past the end of the mapping list.
    public static func igdv2(
        externalIP: String = "203.0.113.7",
        initialMappings: [SimulatedGateway.Mapping] = [],
        permanentLeasesOnly: Bool = false
    ) -> SimulatedGateway.Profile {
        SimulatedGateway.Profile(
            descriptionXML: igdv2Description,
            descriptionPath: "/rootDesc.xml",
            serviceType: "urn:schemas-upnp-org:service:WANIPConnection:2",
            controlPaths: ["/ctl/IPConn": .connected(externalIP: externalIP)],
            udn: "uuid:5e1f0a4c-7d3b-4c2a-9f10-00000000b001",
            supportsListOfPortMappings: true,
            listEnd: .fault713,
            initialMappings: initialMappings,
            permanentLeasesOnly: permanentLeasesOnly
        )
    }
}

extension SimulatedGateway.Profile {
    /// An Orange LiveBox: the orange-livebox fixture (IGD:2, no URLBase), its one
    /// `urn:schemas-upnp-org:service:WANPPPConnection:2` at /upnp/control/WANPPPConn1,
    /// connected, fault 713 past the end of the mapping list. Strict like every simulated
    /// gateway: any other service type in SOAPAction or the body's namespace answers 401.
    public static func orangeLiveBox(externalIP: String = "203.0.113.7", initialMappings: [SimulatedGateway.Mapping] = []) throws -> SimulatedGateway.Profile {
        SimulatedGateway.Profile(
            descriptionXML: try Fixtures.string("orange-livebox/rootDesc.xml"),
            descriptionPath: "/rootDesc.xml",
            serviceType: "urn:schemas-upnp-org:service:WANPPPConnection:2",
            controlPaths: ["/upnp/control/WANPPPConn1": .connected(externalIP: externalIP)],
            udn: "uuid:0f6c2a10-4b7e-3d21-9a55-00000000b001",
            supportsListOfPortMappings: false,
            listEnd: .fault713,
            initialMappings: initialMappings
        )
    }

    /// A Huawei HG531: the huawei-hg531 fixture with its URLBase pointed at the fake server,
    /// its one `urn:dslforum-org:service:WANPPPConnection:1` at /upnp/control/WANPPPConnection1,
    /// connected, fault 713 past the end of the mapping list.
    public static func huaweiHG531(externalIP: String = "203.0.113.7", initialMappings: [SimulatedGateway.Mapping] = []) throws -> SimulatedGateway.Profile {
        let fixture = try Fixtures.string("huawei-hg531/rootDesc.xml")
        let template = fixture.split(separator: "http://192.168.1.1:37215", omittingEmptySubsequences: false).joined(separator: "{{BASE}}")
        return SimulatedGateway.Profile(
            descriptionXML: template,
            descriptionPath: "/desc/rootDesc.xml",
            serviceType: "urn:dslforum-org:service:WANPPPConnection:1",
            controlPaths: ["/upnp/control/WANPPPConnection1": .connected(externalIP: externalIP)],
            udn: "uuid:7b1d0c3e-2f4a-4e55-8c6d-00000000c001",
            supportsListOfPortMappings: false,
            listEnd: .fault713,
            initialMappings: initialMappings
        )
    }
}

/// The description of ``SimulatedGateway/Profile/noURLBase(externalIP:initialMappings:)``.
private let noURLBaseDescription = """
    <?xml version="1.0"?>
    <root xmlns="urn:schemas-upnp-org:device-1-0">
    <specVersion><major>1</major><minor>0</minor></specVersion>
    <device>
    <deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType>
    <friendlyName>Relative URL Gateway</friendlyName>
    <manufacturer>IGDTestSupport</manufacturer>
    <modelName>NoURLBase IGD</modelName>
    <UDN>uuid:5e1f0a4c-7d3b-4c2a-9f10-00000000a001</UDN>
    <deviceList>
    <device>
    <deviceType>urn:schemas-upnp-org:device:WANDevice:1</deviceType>
    <friendlyName>WANDevice</friendlyName>
    <manufacturer>IGDTestSupport</manufacturer>
    <modelName>NoURLBase WAN Device</modelName>
    <UDN>uuid:5e1f0a4c-7d3b-4c2a-9f10-00000000a002</UDN>
    <serviceList>
    <service>
    <serviceType>urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1</serviceType>
    <serviceId>urn:upnp-org:serviceId:WANCommonIFC1</serviceId>
    <SCPDURL>scpd/WANCfg.xml</SCPDURL>
    <controlURL>ctl/CmnIfCfg</controlURL>
    <eventSubURL>evt/CmnIfCfg</eventSubURL>
    </service>
    </serviceList>
    <deviceList>
    <device>
    <deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:1</deviceType>
    <friendlyName>WANConnectionDevice</friendlyName>
    <manufacturer>IGDTestSupport</manufacturer>
    <modelName>NoURLBase WAN Connection Device</modelName>
    <UDN>uuid:5e1f0a4c-7d3b-4c2a-9f10-00000000a003</UDN>
    <serviceList>
    <service>
    <serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType>
    <serviceId>urn:upnp-org:serviceId:WANIPConn1</serviceId>
    <SCPDURL>scpd/WANIPCn.xml</SCPDURL>
    <controlURL>ctl/IPConn</controlURL>
    <eventSubURL>evt/IPConn</eventSubURL>
    </service>
    </serviceList>
    </device>
    </deviceList>
    </device>
    </deviceList>
    </device>
    </root>

    """

/// The description of ``SimulatedGateway/Profile/igdv2(externalIP:initialMappings:permanentLeasesOnly:)``.
private let igdv2Description = """
    <?xml version="1.0"?>
    <root xmlns="urn:schemas-upnp-org:device-1-0" configId="1">
    <specVersion><major>1</major><minor>1</minor></specVersion>
    <device>
    <deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:2</deviceType>
    <friendlyName>IGDv2 Test Gateway</friendlyName>
    <manufacturer>IGDTestSupport</manufacturer>
    <modelName>IGDv2</modelName>
    <UDN>uuid:5e1f0a4c-7d3b-4c2a-9f10-00000000b001</UDN>
    <serviceList>
    <service>
    <serviceType>urn:schemas-upnp-org:service:Layer3Forwarding:1</serviceType>
    <serviceId>urn:upnp-org:serviceId:L3Forwarding1</serviceId>
    <SCPDURL>/L3F.xml</SCPDURL>
    <controlURL>/ctl/L3F</controlURL>
    <eventSubURL>/evt/L3F</eventSubURL>
    </service>
    </serviceList>
    <deviceList>
    <device>
    <deviceType>urn:schemas-upnp-org:device:WANDevice:2</deviceType>
    <friendlyName>WANDevice</friendlyName>
    <manufacturer>IGDTestSupport</manufacturer>
    <modelName>IGDv2 WAN Device</modelName>
    <UDN>uuid:5e1f0a4c-7d3b-4c2a-9f10-00000000b002</UDN>
    <serviceList>
    <service>
    <serviceType>urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1</serviceType>
    <serviceId>urn:upnp-org:serviceId:WANCommonIFC1</serviceId>
    <SCPDURL>/WANCfg.xml</SCPDURL>
    <controlURL>/ctl/CmnIfCfg</controlURL>
    <eventSubURL>/evt/CmnIfCfg</eventSubURL>
    </service>
    </serviceList>
    <deviceList>
    <device>
    <deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:2</deviceType>
    <friendlyName>WANConnectionDevice</friendlyName>
    <manufacturer>IGDTestSupport</manufacturer>
    <modelName>IGDv2 WAN Connection Device</modelName>
    <UDN>uuid:5e1f0a4c-7d3b-4c2a-9f10-00000000b003</UDN>
    <serviceList>
    <service>
    <serviceType>urn:schemas-upnp-org:service:WANIPConnection:2</serviceType>
    <serviceId>urn:upnp-org:serviceId:WANIPConn1</serviceId>
    <SCPDURL>/WANIPCn.xml</SCPDURL>
    <controlURL>/ctl/IPConn</controlURL>
    <eventSubURL>/evt/IPConn</eventSubURL>
    </service>
    </serviceList>
    </device>
    </deviceList>
    </device>
    </deviceList>
    </device>
    </root>

    """
