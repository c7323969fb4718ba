/// The UPnP names portkeeper speaks, in one place.
public enum UPnP {
    /// The SSDP multicast group and port (UDA 1.1 §1.1).
    public static let ssdpMulticastAddress = "239.255.255.250"
    /// The SSDP port: searches go to it, announcements arrive on it.
    public static let ssdpPort = 1900

    /// The SOAP 1.1 envelope's namespace.
    public static let soapEnvelopeNamespace = "http://schemas.xmlsoap.org/soap/envelope/"
    /// The SOAP encoding style UPnP control requests declare.
    public static let soapEncodingStyle = "http://schemas.xmlsoap.org/soap/encoding/"
    /// The namespace of a UPnP fault's `<UPnPError>` detail.
    public static let controlNamespace = "urn:schemas-upnp-org:control-1-0"

    /// Device types of an Internet Gateway Device, newest first.
    public static let gatewayDeviceTypes = [
        "urn:schemas-upnp-org:device:InternetGatewayDevice:2",
        "urn:schemas-upnp-org:device:InternetGatewayDevice:1",
    ]

    /// What discovery searches for. Some routers answer only one of these search targets,
    /// so every one is sent.
    public static let searchTargets = gatewayDeviceTypes + WANService.searched.map(\.rawValue)
}

/// A WAN connection service type that can hold port mappings, as the gateway advertised it.
///
/// Recognised by its name part whatever the domain and version, as miniupnpc does: the
/// standard `urn:schemas-upnp-org:service:WANPPPConnection:2` (Orange LiveBox) and the legacy
/// DSL Forum (TR-064) `urn:dslforum-org:service:WANPPPConnection:1` (Huawei HG531) are both
/// WAN connection services. ``rawValue`` keeps the exact advertised type: requests carry it in
/// SOAPAction and in the body's namespace, because strict routers refuse any other.
public struct WANService: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    /// WANIPConnection or WANPPPConnection.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// WANIPConnection: a routed IP connection.
        case ip = "WANIPConnection"
        /// WANPPPConnection: a PPP(oE) link.
        case ppp = "WANPPPConnection"
    }

    /// The service type exactly as advertised, e.g. "urn:dslforum-org:service:WANPPPConnection:1".
    public let rawValue: String
    /// IP or PPP.
    public let kind: Kind
    /// The domain between "urn:" and ":service:", e.g. "schemas-upnp-org" or "dslforum-org".
    public let domain: String
    /// The version number the type ends with (1 or 2).
    public let version: Int

    /// The UPnP Forum's own domain.
    public static let upnpDomain = "schemas-upnp-org"

    /// `urn:schemas-upnp-org:service:WANIPConnection:2` (IGDv2).
    public static let ipConnection2 = WANService(kind: .ip, version: 2)
    /// `urn:schemas-upnp-org:service:WANIPConnection:1`.
    public static let ipConnection1 = WANService(kind: .ip, version: 1)
    /// `urn:schemas-upnp-org:service:WANPPPConnection:2`.
    public static let pppConnection2 = WANService(kind: .ppp, version: 2)
    /// `urn:schemas-upnp-org:service:WANPPPConnection:1`.
    public static let pppConnection1 = WANService(kind: .ppp, version: 1)

    /// The standard types discovery searches for, newest first.
    public static let searched: [WANService] = [.ipConnection2, .ipConnection1, .pppConnection1]

    /// A standard `urn:schemas-upnp-org:service:KIND:VERSION`.
    public init(kind: Kind, version: Int) {
        self.kind = kind
        self.version = version
        self.domain = Self.upnpDomain
        self.rawValue = "urn:\(Self.upnpDomain):service:\(kind.rawValue):\(version)"
    }

    /// Reads `urn:DOMAIN:service:WANIPConnection:N` or `…:WANPPPConnection:N` (N a positive
    /// decimal, DOMAIN any non-empty run of URN name characters); nil for any other service.
    /// Surrounding whitespace is trimmed, which some routers leave around the text.
    public init?(rawValue: String) {
        let text = rawValue.trimmingXMLWhitespace()
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0].lowercased() == "urn", parts[2] == "service",
              let kind = Kind(rawValue: String(parts[3])),
              !parts[4].isEmpty, parts[4].count <= 4, parts[4].allSatisfy({ $0.isASCII && $0.isNumber }),
              let version = Int(parts[4]), version >= 1
        else { return nil }
        let domain = parts[1]
        guard !domain.isEmpty, domain.count <= 64,
              domain.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || $0.properties.numericType != nil || "-._".unicodeScalars.contains($0)) })
        else { return nil }
        self.rawValue = text
        self.kind = kind
        self.domain = String(domain)
        self.version = version
    }

    /// Whether the service has the IGDv2 actions (GetListOfPortMappings, AddAnyPortMapping,
    /// DeletePortMappingRange): only the standard WANIPConnection from version 2 defines them.
    /// A WANPPPConnection:2 (LiveBox) is treated as v1 for these: no spec promises them there.
    public var isVersion2: Bool { kind == .ip && version >= 2 && domain == Self.upnpDomain }

    /// Smaller is preferred: the standard domain before the DSL Forum's before any other,
    /// then WANIPConnection before WANPPPConnection, then the newest version.
    public var preferenceRank: (Int, Int, Int) {
        let domainRank = domain == Self.upnpDomain ? 0 : (domain.lowercased() == "dslforum-org" ? 1 : 2)
        return (domainRank, kind == .ip ? 0 : 1, -version)
    }

    public static func < (lhs: WANService, rhs: WANService) -> Bool {
        let (l, r) = (lhs.preferenceRank, rhs.preferenceRank)
        return (l.0, l.1, l.2, lhs.rawValue) < (r.0, r.1, r.2, rhs.rawValue)
    }

    public static func == (lhs: WANService, rhs: WANService) -> Bool { lhs.rawValue == rhs.rawValue }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let service = WANService(rawValue: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a WAN connection service type: \(text)"))
        }
        self = service
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

extension String {
    /// Without leading and trailing XML whitespace (space, tab, CR, LF).
    func trimmingXMLWhitespace() -> String {
        let isSpace: (Unicode.Scalar) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !isSpace($0) })!
        return String(scalars[first...last])
    }
}
