import FuzzSupport
import IGDProtocol

/// A device description (rootDesc.xml) as a gateway serves it.
/// Contract: `DeviceDescription.parse` returns a description that re-encodes to a document
/// parsed back to the same description, or throws ProtocolViolation; resolving its services
/// against a gateway URL never throws and keeps only services on the gateway's host.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDeviceDescription(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Contract.bytes(data, size)
    let description: DeviceDescription
    do {
        description = try DeviceDescription.parse(bytes)
    } catch is ProtocolViolation {
        return 0
    } catch {
        Contract.undocumented(error, from: "DeviceDescription.parse")
    }
    Contract.roundTrip(description, encoded: encode(description), "device description") { try DeviceDescription.parse($0) }

    let gateway = try! GatewayURL(parsing: "http://192.168.1.1:5000/rootDesc.xml")
    let (services, _) = description.connectionServices(descriptionURL: gateway)
    for service in services {
        Contract.require(service.controlURL.host == gateway.host, "service \(service.serviceId) resolved off the gateway: \(service.controlURL)")
    }
    return 0
}

func encode(_ description: DeviceDescription) -> [UInt8] {
    var text = "<?xml version=\"1.0\"?>\n<root xmlns=\"urn:schemas-upnp-org:device-1-0\">"
    if let base = description.urlBase { text += XMLWriter.leaf("URLBase", base) }
    text += encode(description.root)
    return Array((text + "</root>").utf8)
}

func encode(_ device: DeviceDescription.Device) -> String {
    var text = "<device>"
    text += XMLWriter.leaf("deviceType", device.deviceType)
    text += XMLWriter.leaf("friendlyName", device.friendlyName)
    text += XMLWriter.leaf("manufacturer", device.manufacturer)
    text += XMLWriter.leaf("modelName", device.modelName)
    text += XMLWriter.leaf("modelNumber", device.modelNumber)
    text += XMLWriter.leaf("UDN", device.udn)
    text += "<serviceList>"
    for service in device.services {
        text += "<service>" + XMLWriter.leaf("serviceType", service.serviceType) + XMLWriter.leaf("serviceId", service.serviceId)
            + XMLWriter.leaf("controlURL", service.controlURL) + "</service>"
    }
    text += "</serviceList><deviceList>"
    for embedded in device.devices { text += encode(embedded) }
    return text + "</deviceList></device>"
}
