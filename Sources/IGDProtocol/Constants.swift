/// The UPnP names portkeeper speaks, in one place.
public enum UPnP {
    /// The SSDP multicast group and port (UDA 1.1 §1.1).
    public static let ssdpMulticastAddress = "239.255.255.250"
    public static let ssdpPort = 1900

    public static let soapEnvelopeNamespace = "http://schemas.xmlsoap.org/soap/envelope/"
    public static let soapEncodingStyle = "http://schemas.xmlsoap.org/soap/encoding/"
    public static let controlNamespace = "urn:schemas-upnp-org:control-1-0"

    /// Device types of an Internet Gateway Device, newest first.
    public static let gatewayDeviceTypes = [
        "urn:schemas-upnp-org:device:InternetGatewayDevice:2",
        "urn:schemas-upnp-org:device:InternetGatewayDevice:1",
    ]

    /// What discovery searches for. Some routers answer only one of these search targets,
    /// so every one is sent.
    public static let searchTargets = gatewayDeviceTypes + WANService.allCases.map(\.rawValue)
}

/// A WAN connection service that can hold port mappings, in preference order.
public enum WANService: String, CaseIterable, Sendable, Codable, Comparable {
    case ipConnection2 = "urn:schemas-upnp-org:service:WANIPConnection:2"
    case ipConnection1 = "urn:schemas-upnp-org:service:WANIPConnection:1"
    case pppConnection1 = "urn:schemas-upnp-org:service:WANPPPConnection:1"

    /// IGDv2's WANIPConnection:2 has GetListOfPortMappings, AddAnyPortMapping and DeletePortMappingRange.
    public var isVersion2: Bool { self == .ipConnection2 }

    public static func < (lhs: WANService, rhs: WANService) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
