import Foundation

/// What kind of address a gateway reports as its external one.
public enum AddressClass: String, Sendable, Codable {
    /// A public address: mappings on it are reachable from the internet.
    case `public`
    /// RFC 1918: 10/8, 172.16/12, 192.168/16.
    case `private`
    /// RFC 6598 shared address space (carrier-grade NAT): 100.64/10.
    case sharedCGNAT = "shared"
    /// Loopback, link-local, documentation, benchmarking, multicast, reserved.
    case reserved
    /// Empty or 0.0.0.0: the gateway has no external address (not connected).
    case unspecified
}

/// The external address a gateway reported, classified.
public struct ExternalAddress: Sendable, Equatable, Codable {
    /// The text the gateway sent, trimmed.
    public let reported: String
    /// The address, when the text is one.
    public let address: IPv4Address?
    /// What kind of address it is.
    public let addressClass: AddressClass

    /// The address a gateway reported as `text` (GetExternalIPAddress), classified.
    public init(reported text: String) {
        reported = text.trimmingCharacters(in: .whitespacesAndNewlines)
        address = IPv4Address(reported)
        addressClass = address.map(Self.classify) ?? .unspecified
    }

    /// Anything but a public address means another NAT sits between this gateway and the
    /// internet, so a mapping here is not reachable from outside.
    public var isDoubleNAT: Bool { addressClass != .public }

    /// One plain sentence for the user when ``isDoubleNAT``, else nil.
    public var doubleNATExplanation: String? {
        switch addressClass {
        case .public:
            return nil
        case .private:
            return "The gateway's external address \(reported) is private: another router sits between it and the internet (double NAT), so mappings made here are not reachable from outside; put the other router in bridge mode or map the port on it too."
        case .sharedCGNAT:
            return "The gateway's external address \(reported) is in the carrier-grade NAT range: your provider shares one public address among customers, so mappings made here are not reachable from outside; ask the provider for a public address."
        case .reserved:
            return "The gateway's external address \(reported) is a reserved address, not a public one, so mappings made here are probably not reachable from outside (double NAT)."
        case .unspecified:
            return "The gateway reports no external address (\(reported.isEmpty ? "empty" : reported)): its WAN connection is down or it sits behind another router, so mappings made here are not reachable from outside."
        }
    }

    static func classify(_ a: IPv4Address) -> AddressClass {
        func within(_ net: String, _ length: Int) -> Bool { a.isIn(IPv4Address(net)!, prefixLength: length) }
        if a.value == 0 { return .unspecified }
        if within("10.0.0.0", 8) || within("172.16.0.0", 12) || within("192.168.0.0", 16) { return .private }
        if within("100.64.0.0", 10) { return .sharedCGNAT }
        let reserved: [(String, Int)] = [
            ("0.0.0.0", 8), ("127.0.0.0", 8), ("169.254.0.0", 16), ("192.0.0.0", 24), ("192.0.2.0", 24),
            ("192.88.99.0", 24), ("198.18.0.0", 15), ("198.51.100.0", 24), ("203.0.113.0", 24),
            ("224.0.0.0", 4), ("240.0.0.0", 4),
        ]
        return reserved.contains { within($0.0, $0.1) } ? .reserved : .public
    }
}
