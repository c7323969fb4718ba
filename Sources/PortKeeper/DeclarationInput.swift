import IGDProtocol
import MappingRegistry

/// Parsing and checking what the user types for a mapping. Every failure is a
/// ``PortKeeperError`` with one line saying what is wrong.
public enum DeclarationInput {
    /// The longest description accepted, in UTF-8 bytes. Routers keep less (miniupnpd 64,
    /// some 32 or 11) and portkeeper accepts what they truncate.
    public static let maxDescriptionBytes = 128
    public static let maxLease: UInt32 = 604_800

    /// "8080/tcp", "53/UDP".
    public static func key(_ text: String) throws -> MappingKey {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            throw PortKeeperError("'\(text)' is not PORT/PROTO", hint: "write it like 8080/tcp or 53/udp")
        }
        let port = try port(String(parts[0]), what: "external port")
        guard let proto = TransportProtocol(caseInsensitive: String(parts[1])) else {
            throw PortKeeperError("protocol '\(parts[1])' is neither tcp nor udp")
        }
        return MappingKey(protocol: proto, externalPort: port)
    }

    /// A port number 1...65535, digits only.
    public static func port(_ text: String, what: String = "port") throws -> UInt16 {
        guard !text.isEmpty, text.count <= 5, text.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(text), (1...65535).contains(value) else {
            throw PortKeeperError("\(what) '\(text)' is not a number from 1 to 65535")
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
            throw PortKeeperError("'\(hostText)' is not an IPv4 address written canonically (like 192.168.1.20)")
        }
        return (.address(address), port)
    }

    public static func lease(_ value: Int) throws -> UInt32 {
        guard (0...Int(maxLease)).contains(value) else {
            throw PortKeeperError("lease \(value) is outside 0...\(maxLease) seconds (0 asks for a permanent mapping)")
        }
        return UInt32(value)
    }

    public static func description(_ text: String) throws -> String {
        guard !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw PortKeeperError("the description contains a control character")
        }
        guard text.utf8.count <= maxDescriptionBytes else {
            throw PortKeeperError("the description is \(text.utf8.count) bytes, over the \(maxDescriptionBytes)-byte limit")
        }
        return text
    }
}
