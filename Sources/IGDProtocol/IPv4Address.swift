/// An IPv4 address written canonically: four decimal octets, no leading zeros.
public struct IPv4Address: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The four octets, most significant first.
    public let octets: (UInt8, UInt8, UInt8, UInt8)

    /// The address `a.b.c.d`.
    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        octets = (a, b, c, d)
    }

    /// Parses "192.168.1.3"; rejects "192.168.001.3", "1.2.3", " 1.2.3.4" and anything else
    /// that is not the canonical form.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var values: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  part == "0" || part.first != "0", let value = UInt8(part)
            else { return nil }
            values.append(value)
        }
        octets = (values[0], values[1], values[2], values[3])
    }

    /// The address as a 32-bit number, in host order.
    public var value: UInt32 {
        UInt32(octets.0) << 24 | UInt32(octets.1) << 16 | UInt32(octets.2) << 8 | UInt32(octets.3)
    }

    /// The address whose 32-bit number is `value`.
    public init(value: UInt32) {
        self.init(UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff))
    }

    public var description: String { "\(octets.0).\(octets.1).\(octets.2).\(octets.3)" }

    public static func == (lhs: IPv4Address, rhs: IPv4Address) -> Bool { lhs.value == rhs.value }
    public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool { lhs.value < rhs.value }
    public func hash(into hasher: inout Hasher) { hasher.combine(value) }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let address = IPv4Address(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an IPv4 address: \(text)"))
        }
        self = address
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    /// True when the address lies in `network`/`prefixLength`.
    public func isIn(_ network: IPv4Address, prefixLength: Int) -> Bool {
        let mask: UInt32 = prefixLength == 0 ? 0 : ~UInt32(0) << (32 - prefixLength)
        return value & mask == network.value & mask
    }
}
