import IGDProtocol
import PortKeeperModel

/// Parsing and checking what the user types for a mapping. Every failure is a
/// ``PortKeeperError`` with one line saying what is wrong.
public enum DeclarationInput {
    /// The longest description accepted, in UTF-8 bytes. Routers keep less (miniupnpd 64,
    /// some 32 or 11) and portkeeper accepts what they truncate.
    public static let maxDescriptionBytes = 128
    /// The longest lease accepted, in seconds: a week, the most IGDv2 grants (0 asks for a permanent mapping).
    public static let maxLease: UInt32 = 604_800

    /// "8080/tcp", "53/UDP".
    public static func key(_ text: String) throws -> MappingKey {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            throw PortKeeperError(.invalidInput, "'\(text)' is not PORT/PROTO", hint: "write it like 8080/tcp or 53/udp")
        }
        let port = try port(String(parts[0]), what: "external port")
        guard let proto = TransportProtocol(caseInsensitive: String(parts[1])) else {
            throw PortKeeperError(.invalidInput, "protocol '\(parts[1])' is neither tcp nor udp")
        }
        return MappingKey(protocol: proto, externalPort: port)
    }

    /// A port number 1...65535, digits only.
    public static func port(_ text: String, what: String = "port") throws -> UInt16 {
        guard !text.isEmpty, text.count <= 5, text.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(text), (1...65535).contains(value) else {
            throw PortKeeperError(.invalidInput, "\(what) '\(text)' is not a number from 1 to 65535")
        }
        return UInt16(value)
    }

    /// `--to [HOST][:PORT]`: the client (nil: this host) and the internal port (nil: the external one).
    public static func target(_ text: String?) throws -> (client: InternalClient, port: UInt16?) {
        guard let text, !text.isEmpty else { return (.thisHost, nil) }
        var hostText = Substring(text)
        var port: UInt16?
        if let colon = text.lastIndex(of: ":") {
            hostText = text[..<colon]
            port = try self.port(String(text[text.index(after: colon)...]), what: "internal port")
        }
        guard !hostText.isEmpty else { return (.thisHost, port) }
        guard let address = IPv4Address(hostText) else {
            throw PortKeeperError(.invalidInput, "'\(hostText)' is not an IPv4 address written canonically (like 192.168.1.20)")
        }
        return (.address(address), port)
    }

    /// Checks that `address` can be a port mapping's internal client: a unicast host on one of
    /// `localSubnets` (this machine's interfaces), or anywhere unicast when `allowRemote` (the
    /// user said so with `--allow-remote-client`: a host behind another router on the LAN).
    ///
    /// Refused whatever `allowRemote` says: 0.0.0.0/8 (unspecified, "this network"),
    /// 127.0.0.0/8 (loopback: the router itself), 224.0.0.0/4 (multicast), 240.0.0.0/4
    /// (reserved) with 255.255.255.255 (limited broadcast), and the network and directed
    /// broadcast addresses of a local subnet. Pure: the CLI passes `LocalSubnets.current()`.
    /// - Throws: ``PortKeeperError`` naming the address and why.
    public static func client(_ address: IPv4Address, localSubnets: [IPv4Subnet], allowRemote: Bool) throws {
        let what = "--to \(address)"
        if address == IPv4Address(255, 255, 255, 255) {
            throw PortKeeperError(.invalidInput, "\(what) is the limited broadcast address, not one machine", hint: "give the LAN address of the machine the traffic should reach")
        }
        if address.isIn(IPv4Address(0, 0, 0, 0), prefixLength: 8) {
            throw PortKeeperError(.invalidInput, "\(what) is an unspecified address (0.0.0.0/8), not a machine", context: .clientUnspecified)
        }
        if address.isIn(IPv4Address(127, 0, 0, 0), prefixLength: 8) {
            throw PortKeeperError(.invalidInput, "\(what) is a loopback address: the router would send the traffic to itself", context: .clientLoopback)
        }
        if address.isIn(IPv4Address(224, 0, 0, 0), prefixLength: 4) {
            throw PortKeeperError(.invalidInput, "\(what) is a multicast address, not one machine", hint: "give the LAN address of the machine the traffic should reach")
        }
        if address.isIn(IPv4Address(240, 0, 0, 0), prefixLength: 4) {
            throw PortKeeperError(.invalidInput, "\(what) is in the reserved range 240.0.0.0/4, not a machine", hint: "give the LAN address of the machine the traffic should reach")
        }
        let lan = localSubnets.filter { !$0.address.isIn(IPv4Address(127, 0, 0, 0), prefixLength: 8) }
        for subnet in lan where subnet.hasBroadcast {
            if address == subnet.broadcast {
                throw PortKeeperError(.invalidInput, "\(what) is the broadcast address of the local subnet \(subnet), not one machine", hint: "give the LAN address of the machine the traffic should reach")
            }
            if address == subnet.network {
                throw PortKeeperError(.invalidInput, "\(what) is the network address of the local subnet \(subnet), not a machine", hint: "give the LAN address of the machine the traffic should reach")
            }
        }
        guard allowRemote || lan.contains(where: { $0.contains(address) }) else {
            let subnets = lan.isEmpty ? "this machine is on no IPv4 subnet" : "this machine's subnets are " + lan.map(\.description).joined(separator: ", ")
            throw PortKeeperError(.invalidInput, "\(what) is on none of this machine's subnets (\(subnets))", context: .clientOffSubnet)
        }
    }

    /// The index of the first argument that is not valid UTF-8, or nil.
    ///
    /// Swift decodes argv into `CommandLine.arguments` replacing invalid UTF-8 with U+FFFD, so
    /// the damage cannot be seen there: a description typed in a Latin-1 terminal would be stored
    /// with U+FFFD in place of its letters. The CLI passes the raw bytes of argv instead, and
    /// refuses. U+FFFD typed as such is valid UTF-8 and stays allowed.
    public static func firstInvalidUTF8(_ arguments: [[UInt8]]) -> Int? {
        arguments.firstIndex { String(validating: $0, as: UTF8.self) == nil }
    }

    /// Refuses an argument list with an argument that is not UTF-8 (see ``firstInvalidUTF8(_:)``).
    /// - Throws: ``PortKeeperError`` naming the argument as decoded, U+FFFD marking the bad bytes.
    public static func checkUTF8(_ arguments: [[UInt8]]) throws {
        guard let index = firstInvalidUTF8(arguments) else { return }
        let shown = String(decoding: arguments[index], as: UTF8.self).unicodeScalars
            .map { $0.properties.generalCategory == .control ? "\\u{\(String($0.value, radix: 16, uppercase: true))}" : String($0) }.joined()
        throw PortKeeperError(.invalidInput, "argument '\(shown.prefix(80))' is not valid UTF-8 (shown with U+FFFD for the bad bytes)",
                              hint: "type it in a UTF-8 terminal or locale")
    }

    /// A lease in seconds, checked against 0...``maxLease``.
    /// - Throws: ``PortKeeperError`` `invalidInput` for a value outside that range.
    public static func lease(_ value: Int) throws -> UInt32 {
        guard (0...Int(maxLease)).contains(value) else {
            throw PortKeeperError(.invalidInput, "lease \(value) is outside 0...\(maxLease) seconds (0 asks for a permanent mapping)")
        }
        return UInt32(value)
    }

    /// A description the router can be sent and show: no control character (C0, DEL, C1 —
    /// tab and newlines included, a router's one-line field has no use for them), nothing
    /// XML 1.0 cannot carry (U+FFFE, U+FFFF), at most ``maxDescriptionBytes``.
    public static func description(_ text: String) throws -> String {
        if let bad = text.unicodeScalars.first(where: { $0.properties.generalCategory == .control }) {
            throw PortKeeperError(.invalidInput, "the description contains a control character (U+\(hex(bad)))")
        }
        if let bad = text.unicodeScalars.first(where: { !XMLEscaping.isRepresentable(String($0)) }) {
            throw PortKeeperError(.invalidInput, "the description contains U+\(hex(bad)), which XML 1.0 cannot carry to the router")
        }
        guard text.utf8.count <= maxDescriptionBytes else {
            throw PortKeeperError(.invalidInput, "the description is \(text.utf8.count) bytes, over the \(maxDescriptionBytes)-byte limit")
        }
        return text
    }

    /// "0001", "FFFE": a scalar's code point as written after "U+".
    private static func hex(_ scalar: Unicode.Scalar) -> String {
        let digits = String(scalar.value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
