#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import IGDProtocol

/// An IPv4 default route, as the kernel's routing table lists it.
public struct DefaultRoute: Sendable, Equatable {
    /// The interface it leaves through ("eth0").
    public var interface: String
    /// The next hop: the router, where a NAT-PMP/PCP server listens.
    public var gateway: IPv4Address
    /// Its metric; the kernel prefers the lowest.
    public var metric: UInt32

    /// A route through `gateway` on `interface` with `metric`.
    public init(interface: String, gateway: IPv4Address, metric: UInt32) {
        self.interface = interface
        self.gateway = gateway
        self.metric = metric
    }
}

/// The kernel tables discovery reads to know where a NAT-PMP/PCP server is: the IPv4 routing
/// table (`/proc/net/route`) for the default gateway, the neighbour table (`/proc/net/arp`) for
/// its hardware address. Pure parsers over the text, and a thin reader.
///
/// Both files are read as hostile input: at most ``maxBytes`` of them, each line checked field by
/// field; a line that does not parse is left out, never guessed at.
public enum SystemTables {
    /// The most bytes of a table read; what follows is not looked at.
    public static let maxBytes = 256 * 1024
    /// The longest line looked at (the kernel's are about 128 characters).
    static let maxLineLength = 512

    /// The default route with the lowest metric (the first listed of equals) in the text of
    /// `/proc/net/route`, on `interface` only when one is named; nil when there is none.
    ///
    /// A default route has destination and mask 0, the flags RTF_UP (0x1) and RTF_GATEWAY
    /// (0x2), and a gateway that is a unicast address (not in 0/8, 127/8 or 224/3). Addresses are
    /// the kernel's 32-bit values in network byte order printed as native hexadecimal integers
    /// ("0101A8C0" is 192.168.1.1 on a little-endian machine).
    public static func defaultRoute(inRouteTable text: String, interface: String? = nil) -> DefaultRoute? {
        var best: DefaultRoute?
        for line in lines(text) {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 8, fields[0] != "Iface" else { continue }
            let name = fields[0]
            guard (1...15).contains(name.utf8.count), name.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else { continue }
            guard interface.map({ name == $0 }) ?? true,
                  let destination = hex32(fields[1]), destination == 0,
                  let next = hex32(fields[2]),
                  let flags = hexDigits(fields[3]), flags & 0x3 == 0x3,
                  fields[6].allSatisfy({ $0.isASCII && $0.isNumber }), let metric = UInt32(fields[6]),
                  let mask = hex32(fields[7]), mask == 0
            else { continue }
            let gateway = IPv4Address(value: UInt32(bigEndian: next))
            guard isUnicast(gateway) else { continue }
            if best.map({ metric < $0.metric }) ?? true {
                best = DefaultRoute(interface: String(name), gateway: gateway, metric: metric)
            }
        }
        return best
    }

    /// The hardware address of `address` in the text of `/proc/net/arp`, lower case
    /// ("aa:bb:cc:00:11:22"); nil when the table has no complete entry for it.
    ///
    /// An entry counts when its flags have ATF_COM (0x2: resolved), its hardware address is six
    /// two-digit hexadecimal octets and not all zero, and (when `interface` is named) it is on
    /// that interface.
    public static func hardwareAddress(of address: IPv4Address, inNeighbourTable text: String, interface: String? = nil) -> String? {
        for line in lines(text) {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 6, IPv4Address(fields[0]) == address,
                  let flags = prefixedHex(fields[2]), flags & 0x2 != 0,
                  interface.map({ fields[5] == $0 }) ?? true
            else { continue }
            let octets = fields[3].split(separator: ":", omittingEmptySubsequences: false)
            guard octets.count == 6, octets.allSatisfy({ $0.utf8.count == 2 && UInt8($0, radix: 16) != nil }),
                  !octets.allSatisfy({ $0 == "00" })
            else { continue }
            return fields[3].lowercased()
        }
        return nil
    }

    /// The IPv4 default gateway of this host (of its network namespace), read from
    /// `/proc/net/route`; nil when there is none or the table cannot be read.
    public static func defaultRoute(interface: String? = nil, path: String = "/proc/net/route") -> DefaultRoute? {
        contents(of: path).flatMap { defaultRoute(inRouteTable: $0, interface: interface) }
    }

    /// The hardware address of `address` from `/proc/net/arp`; nil when unknown or unreadable.
    public static func hardwareAddress(of address: IPv4Address, interface: String? = nil, path: String = "/proc/net/arp") -> String? {
        contents(of: path).flatMap { hardwareAddress(of: address, inNeighbourTable: $0, interface: interface) }
    }

    /// At most ``maxBytes`` of the file at `path` (procfs files report no size: read until the
    /// end or the cap), as text with anything that is not UTF-8 replaced; nil when it cannot be opened.
    static func contents(of path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while bytes.count < maxBytes {
            let wanted = min(chunk.count, maxBytes - bytes.count)
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, wanted) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            bytes += chunk[..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The complete lines of `text`, each at most ``maxLineLength`` long (longer ones left out);
    /// a last line without its newline is cut by the cap or written half: it is left out too
    /// when the text fills the cap.
    static func lines(_ text: String) -> [Substring] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        if text.utf8.count >= maxBytes, !text.hasSuffix("\n"), !lines.isEmpty { lines.removeLast() }
        return lines.filter { $0.utf8.count <= maxLineLength }
    }

    /// Exactly eight hexadecimal digits.
    static func hex32(_ text: Substring) -> UInt32? {
        guard text.utf8.count == 8, text.allSatisfy({ $0.isASCII && $0.isHexDigit }) else { return nil }
        return UInt32(text, radix: 16)
    }

    /// One to eight hexadecimal digits (the routing table's flags, "0003").
    static func hexDigits(_ text: Substring) -> UInt32? {
        guard (1...8).contains(text.utf8.count), text.allSatisfy({ $0.isASCII && $0.isHexDigit }) else { return nil }
        return UInt32(text, radix: 16)
    }

    /// "0x" and one to eight hexadecimal digits (the neighbour table's flags, "0x2").
    static func prefixedHex(_ text: Substring) -> UInt32? {
        text.hasPrefix("0x") ? hexDigits(text.dropFirst(2)) : nil
    }

    /// Not 0.0.0.0/8, loopback, multicast, reserved or the limited broadcast.
    static func isUnicast(_ address: IPv4Address) -> Bool {
        let first = address.octets.0
        return first != 0 && first != 127 && first < 224
    }
}
