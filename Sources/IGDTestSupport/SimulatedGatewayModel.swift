import Foundation

extension SimulatedGateway {
    /// How a simulated gateway describes itself and behaves.
    public struct Profile: Sendable {
        /// The device description; every `{{BASE}}` becomes the server's base URL
        /// ("http://127.0.0.1:PORT") when served.
        public var descriptionXML: String
        /// Where the description is served, e.g. "/DeviceDescription.xml".
        public var descriptionPath: String
        /// The service type the control paths speak, e.g.
        /// "urn:schemas-upnp-org:service:WANPPPConnection:1".
        public var serviceType: String
        /// The request targets (path plus query, e.g. "/UD/?6") that answer SOAP, each with the
        /// state of its connection.
        public var controlPaths: [String: ConnectionState]
        /// The root device's UDN, e.g. "uuid:…"; SSDP answers use it in USN.
        public var udn: String
        /// Whether the IGDv2 action GetListOfPortMappings is offered.
        public var supportsListOfPortMappings: Bool
        /// How GetGenericPortMappingEntry answers an index past the end of the table.
        public var listEnd: ListEnd
        /// The port mappings present when the gateway starts.
        public var initialMappings: [Mapping]
        /// The most mappings the table holds; AddPortMapping of a new one beyond answers 728.
        public var maxEntries: Int
        /// Whether only permanent leases are allowed (a non-zero lease answers 725).
        public var permanentLeasesOnly: Bool

        /// Creates a profile; see the properties for what each value means.
        public init(
            descriptionXML: String,
            descriptionPath: String,
            serviceType: String,
            controlPaths: [String: ConnectionState],
            udn: String,
            supportsListOfPortMappings: Bool = false,
            listEnd: ListEnd = .fault713,
            initialMappings: [Mapping] = [],
            maxEntries: Int = 128,
            permanentLeasesOnly: Bool = false
        ) {
            self.descriptionXML = descriptionXML
            self.descriptionPath = descriptionPath
            self.serviceType = serviceType
            self.controlPaths = controlPaths
            self.udn = udn
            self.supportsListOfPortMappings = supportsListOfPortMappings
            self.listEnd = listEnd
            self.initialMappings = initialMappings
            self.maxEntries = maxEntries
            self.permanentLeasesOnly = permanentLeasesOnly
        }

        /// Every `<deviceType>` in the description, root device first.
        public var deviceTypes: [String] {
            elementTexts("deviceType")
        }

        /// Every `<serviceType>` in the description, in order.
        public var serviceTypes: [String] {
            elementTexts("serviceType")
        }

        /// The trimmed texts of all `<name>…</name>` elements of the description, in order.
        private func elementTexts(_ name: String) -> [String] {
            var texts: [String] = []
            var rest = descriptionXML[...]
            while let open = rest.range(of: "<\(name)>"),
                  let close = rest.range(of: "</\(name)>", range: open.upperBound..<rest.endIndex) {
                texts.append(rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespacesAndNewlines))
                rest = rest[close.upperBound...]
            }
            return texts
        }
    }

    /// The state of one WAN connection service (one control path).
    public struct ConnectionState: Sendable, Equatable {
        /// "Connected", "Disconnected", "Unconfigured", … as GetStatusInfo reports it.
        public var status: String
        /// What GetExternalIPAddress reports ("" when there is none).
        public var externalIP: String
        /// What GetConnectionTypeInfo reports, e.g. "IP_Routed".
        public var connectionType: String
        /// Seconds connected, as GetStatusInfo reports it.
        public var uptime: UInt32

        /// Creates a connection state.
        public init(status: String, externalIP: String, connectionType: String = "IP_Routed", uptime: UInt32 = 0) {
            self.status = status
            self.externalIP = externalIP
            self.connectionType = connectionType
            self.uptime = uptime
        }

        /// A connected service with a public address.
        public static func connected(externalIP: String, uptime: UInt32 = 3600) -> ConnectionState {
            ConnectionState(status: "Connected", externalIP: externalIP, uptime: uptime)
        }

        /// A disconnected service with no address.
        public static let disconnected = ConnectionState(status: "Disconnected", externalIP: "", uptime: 0)
    }

    /// One port mapping as the gateway's table holds it.
    public struct Mapping: Sendable, Equatable {
        /// The remote host the mapping is limited to ("" for any).
        public var remoteHost: String
        /// The port on the gateway's external side.
        public var externalPort: UInt16
        /// "TCP" or "UDP".
        public var `protocol`: String
        /// The port on the internal client.
        public var internalPort: UInt16
        /// The LAN address the traffic goes to.
        public var internalClient: String
        /// Whether the mapping is active.
        public var enabled: Bool
        /// The mapping's free-text description.
        public var description: String
        /// The lease in seconds (0 for permanent), as it was granted; it does not count down.
        public var leaseDuration: UInt32

        /// Creates a mapping.
        public init(
            remoteHost: String = "",
            externalPort: UInt16,
            protocol: String,
            internalPort: UInt16,
            internalClient: String,
            enabled: Bool = true,
            description: String = "",
            leaseDuration: UInt32 = 0
        ) {
            self.remoteHost = remoteHost
            self.externalPort = externalPort
            self.protocol = `protocol`
            self.internalPort = internalPort
            self.internalClient = internalClient
            self.enabled = enabled
            self.description = description
            self.leaseDuration = leaseDuration
        }

        /// Whether this mapping has the key (remote host, external port, protocol) given.
        func matches(remoteHost: String, externalPort: UInt16, protocol: String) -> Bool {
            self.remoteHost == remoteHost && self.externalPort == externalPort
                && self.protocol.uppercased() == `protocol`.uppercased()
        }
    }

    /// How GetGenericPortMappingEntry answers an index past the end of the table.
    public enum ListEnd: Sendable, Equatable {
        /// HTTP 500 with UPnP fault 713 SpecifiedArrayIndexInvalid (what the specs ask for).
        case fault713
        /// HTTP 500 with UPnP fault 714 NoSuchEntryInArray.
        case fault714
        /// HTTP 500 with UPnP fault 402 Invalid Args.
        case fault402
        /// HTTP 500 with an empty body (the NTT ADSL Modem-SV3 does this).
        case http500Empty
        /// HTTP 500 with a body that is not XML.
        case http500Garbage
    }
}
