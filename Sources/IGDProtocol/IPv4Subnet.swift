/// An interface's IPv4 address with its netmask: the subnet it is on.
public struct IPv4Subnet: Sendable, Hashable, CustomStringConvertible {
    /// The interface's own address.
    public var address: IPv4Address
    /// Its netmask.
    public var netmask: IPv4Address

    /// The subnet of `address` under `netmask`.
    public init(address: IPv4Address, netmask: IPv4Address) {
        self.address = address
        self.netmask = netmask
    }

    /// The number of leading one bits of the netmask (a non-contiguous mask counts its leading ones).
    public var prefixLength: Int { (~netmask.value).leadingZeroBitCount }

    /// The network address (host bits all zero).
    public var network: IPv4Address { IPv4Address(value: address.value & netmask.value) }
    /// The directed broadcast address (host bits all one).
    public var broadcast: IPv4Address { IPv4Address(value: address.value | ~netmask.value) }

    /// Whether the subnet has a network and a broadcast address apart from its hosts (RFC 3021:
    /// a /31 has neither, a /32 is one host).
    public var hasBroadcast: Bool { prefixLength <= 30 }

    /// Whether `other` is on this subnet.
    public func contains(_ other: IPv4Address) -> Bool {
        other.value & netmask.value == address.value & netmask.value
    }

    /// "192.168.1.0/24".
    public var description: String { "\(network)/\(prefixLength)" }
}
