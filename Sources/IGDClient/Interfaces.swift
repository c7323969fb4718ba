import NIOCore
import IGDProtocol

/// An IPv4 interface SSDP searches can go out on.
public struct SearchInterface: Sendable, Equatable {
    /// The interface's name ("eth0").
    public var name: String
    /// Its IPv4 address, which searches go out from.
    public var address: IPv4Address

    /// The interface `name` with `address`.
    public init(name: String, address: IPv4Address) {
        self.name = name
        self.address = address
    }

    /// Every multicast-capable, non-loopback IPv4 interface; only `named` when given.
    /// - Throws: ``DiscoveryError`` when the named interface does not exist or has no IPv4 address.
    public static func available(named: String? = nil) throws -> [SearchInterface] {
        let devices = (try? System.enumerateDevices()) ?? []
        var found: [SearchInterface] = []
        for device in devices {
            guard let ip = device.address?.ipAddress, let address = IPv4Address(ip) else { continue }
            if let named {
                guard device.name == named else { continue }
            } else {
                guard device.multicastSupported, !address.isIn(IPv4Address(127, 0, 0, 0), prefixLength: 8) else { continue }
            }
            if !found.contains(where: { $0.name == device.name && $0.address == address }) {
                found.append(SearchInterface(name: device.name, address: address))
            }
        }
        if let named, found.isEmpty {
            let names = Set(devices.map(\.name)).sorted().joined(separator: ", ")
            throw DiscoveryError("interface \(named) does not exist or has no IPv4 address (interfaces here: \(names))")
        }
        return found
    }
}

/// Discovery could not run at all (as opposed to finding nothing).
public struct DiscoveryError: Error, Sendable, CustomStringConvertible {
    /// What stopped it, in one line.
    public let description: String
    /// Discovery could not run, for the reason `description` gives.
    public init(_ description: String) { self.description = description }
}

/// The IPv4 subnets this machine is on.
public enum LocalSubnets {
    /// Every interface's IPv4 address and netmask, loopback included, each once. Empty when the
    /// interfaces cannot be listed.
    public static func current() -> [IPv4Subnet] {
        var found: [IPv4Subnet] = []
        for device in (try? System.enumerateDevices()) ?? [] {
            guard let ip = device.address?.ipAddress, let address = IPv4Address(ip),
                  let maskText = device.netmask?.ipAddress, let netmask = IPv4Address(maskText)
            else { continue }
            let subnet = IPv4Subnet(address: address, netmask: netmask)
            if !found.contains(subnet) { found.append(subnet) }
        }
        return found
    }
}
