/// A UPnP device description (UDA 1.1 §2.3), reduced to what a port-mapping client needs.
public struct DeviceDescription: Sendable, Equatable {
    /// A service a device lists.
    public struct Service: Sendable, Equatable {
        /// Its type URN, as written.
        public var serviceType: String
        /// Its id, as written.
        public var serviceId: String
        /// As written in the description; resolve with ``DeviceDescription/connectionServices(descriptionURL:)``.
        public var controlURL: String
    }

    /// A device: the root, or one embedded in another.
    public struct Device: Sendable, Equatable {
        /// Its type URN, as written.
        public var deviceType: String
        /// The name it gives itself.
        public var friendlyName: String
        /// Its manufacturer.
        public var manufacturer: String
        /// Its model.
        public var modelName: String
        /// Its model number.
        public var modelNumber: String
        /// Its UDN ("uuid:…").
        public var udn: String
        /// The services it lists itself.
        public var services: [Service]
        /// The devices embedded in it.
        public var devices: [Device]

        /// This device and every embedded one, depth first.
        public var allDevices: [Device] { [self] + devices.flatMap(\.allDevices) }
    }

    /// URLBase, when the description has one: what relative control URLs resolve against.
    public var urlBase: String?
    /// The root device.
    public var root: Device

    /// Parses a description document.
    /// - Throws: ``ProtocolViolation`` for malformed, oversized or entity-bearing XML, or a missing root device.
    public static func parse(_ bytes: some Collection<UInt8>) throws -> DeviceDescription {
        let document = try XMLTree.parse(bytes)
        guard document.name == "root" else { throw ProtocolViolation("device description's root element is <\(document.name)>, not <root>") }
        guard let device = document.child("device") else { throw ProtocolViolation("device description has no <device>") }
        let base = document.childText("URLBase").flatMap { $0.isEmpty ? nil : $0 }
        return DeviceDescription(urlBase: base, root: try parseDevice(device, depth: 0))
    }

    static func parseDevice(_ element: XMLElement, depth: Int) throws -> Device {
        guard depth < 8 else { throw ProtocolViolation("device description nests devices deeper than 8 levels") }
        let services = (element.child("serviceList")?.children ?? []).filter { $0.name == "service" }.map {
            Service(
                serviceType: $0.childText("serviceType") ?? "",
                serviceId: $0.childText("serviceId") ?? "",
                controlURL: $0.childText("controlURL") ?? ""
            )
        }
        let devices = try (element.child("deviceList")?.children ?? []).filter { $0.name == "device" }.map {
            try parseDevice($0, depth: depth + 1)
        }
        return Device(
            deviceType: element.childText("deviceType") ?? "",
            friendlyName: element.childText("friendlyName") ?? "",
            manufacturer: element.childText("manufacturer") ?? "",
            modelName: element.childText("modelName") ?? "",
            modelNumber: element.childText("modelNumber") ?? "",
            udn: element.childText("UDN") ?? "",
            services: services,
            devices: devices
        )
    }

    /// Every service type in the device tree, in document order, each once.
    public var serviceTypes: [String] {
        var seen: Set<String> = []
        return root.allDevices.flatMap(\.services).map { $0.serviceType.trimmingXMLWhitespace() }.filter { seen.insert($0).inserted }
    }

    /// The identity a gateway is known by: the root device's UDN, trimmed.
    ///
    /// A description whose UDN is empty or only whitespace would merge every such router into
    /// one registry entry, so it gets an identity derived from where it was read:
    /// `uuid:no-udn-HOST` with HOST the description URL's IPv4 address. The host and not the
    /// port: miniupnpd-style daemons pick a new port at each start, and the same router after a
    /// restart must stay the same gateway; two routers never share a LAN address. The `uuid:`
    /// prefix keeps it usable with `--gateway` like any UDN.
    public func identity(descriptionURL: GatewayURL) -> String {
        Self.identity(udn: root.udn, descriptionURL: descriptionURL)
    }

    /// See ``identity(descriptionURL:)``.
    public static func identity(udn: String, descriptionURL: GatewayURL) -> String {
        let trimmed = udn.trimmingXMLWhitespace()
        return trimmed.isEmpty ? "uuid:no-udn-\(descriptionURL.host)" : trimmed
    }

    /// Every WAN connection service in the device tree (``WANService`` recognises
    /// WANIPConnection and WANPPPConnection of any version and domain), with its control URL
    /// resolved against URLBase when present, else against `descriptionURL`.
    ///
    /// A service whose control URL cannot be resolved or points off the gateway's own host
    /// is left out and its reason returned in `refused`.
    public func connectionServices(descriptionURL: GatewayURL) -> (services: [ConnectionService], refused: [String]) {
        var refused: [String] = []
        var base = descriptionURL
        if let urlBase {
            do {
                let candidate = try descriptionURL.resolving(urlBase)
                if candidate.host == descriptionURL.host {
                    base = candidate
                } else {
                    refused.append("URLBase \(urlBase) names another host than the gateway (\(descriptionURL.host)); resolving against the description's URL instead")
                }
            } catch {
                refused.append("URLBase \(urlBase) refused (\(error)); resolving against the description's URL instead")
            }
        }
        var services: [ConnectionService] = []
        for device in root.allDevices {
            for service in device.services {
                guard let type = WANService(rawValue: service.serviceType) else { continue }
                do {
                    let url = try base.resolving(service.controlURL)
                    guard url.host == descriptionURL.host else {
                        refused.append("\(service.serviceId): control URL \(url) is not on the gateway's address \(descriptionURL.host)")
                        continue
                    }
                    services.append(ConnectionService(type: type, serviceId: service.serviceId, controlURL: url, deviceUDN: device.udn))
                } catch {
                    refused.append("\(service.serviceId): \(error)")
                }
            }
        }
        return (services, refused)
    }
}

/// A WAN connection service a client can talk to.
public struct ConnectionService: Sendable, Equatable, Hashable, Codable {
    /// The service's type, as advertised.
    public var type: WANService
    /// Its id in the description.
    public var serviceId: String
    /// Where its SOAP actions go, resolved and checked to be on the gateway's address.
    public var controlURL: GatewayURL
    /// The UDN of the device that lists it.
    public var deviceUDN: String

    /// A service of `type` controlled at `controlURL`.
    public init(type: WANService, serviceId: String, controlURL: GatewayURL, deviceUDN: String) {
        self.type = type
        self.serviceId = serviceId
        self.controlURL = controlURL
        self.deviceUDN = deviceUDN
    }
}
