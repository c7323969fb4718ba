import Foundation

/// An `http://` URL on an IPv4 literal: the only kind of URL portkeeper follows to a gateway.
///
/// No user information, no host names (a name would let a reply point anywhere), no other
/// scheme. The request target keeps the path and query as sent (`/UD/?6`).
public struct GatewayURL: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The gateway's address.
    public let host: IPv4Address
    /// The TCP port.
    public let port: UInt16
    /// Path and query, starting with "/".
    public let target: String

    /// `http://host:port` followed by `target` (which starts with "/").
    public init(host: IPv4Address, port: UInt16, target: String) {
        self.host = host
        self.port = port
        self.target = target.isEmpty ? "/" : target
    }

    /// Parses an absolute `http://IPv4[:port]/path?query` URL.
    /// - Throws: ``ProtocolViolation`` saying why the URL is refused.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.count <= 2048 else { throw ProtocolViolation("URL longer than 2048 characters") }
        guard trimmed.lowercased().hasPrefix("http://") else {
            throw ProtocolViolation("URL \(Self.quoted(trimmed)) is not http://")
        }
        let rest = trimmed.dropFirst("http://".count)
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var target = String(rest[authorityEnd...])
        if let hash = target.firstIndex(of: "#") { target = String(target[..<hash]) }
        if target.hasPrefix("?") { target = "/" + target }
        guard !authority.contains("@") else { throw ProtocolViolation("URL \(Self.quoted(trimmed)) carries user information") }
        var hostText = Substring(authority)
        var port: UInt16 = 80
        if let colon = authority.lastIndex(of: ":") {
            hostText = authority[..<colon]
            let portText = authority[authority.index(after: colon)...]
            guard portText.allSatisfy({ $0.isASCII && $0.isNumber }), let value = UInt16(portText), value > 0 else {
                throw ProtocolViolation("URL \(Self.quoted(trimmed)) has an invalid port")
            }
            port = value
        }
        guard let host = IPv4Address(hostText) else {
            throw ProtocolViolation("URL \(Self.quoted(trimmed)) does not name the gateway by an IPv4 address")
        }
        guard target.allSatisfy({ $0.isASCII && !$0.isWhitespace && !($0.asciiValue.map { $0 < 0x20 || $0 == 0x7f } ?? true) }) else {
            throw ProtocolViolation("URL \(Self.quoted(trimmed)) has spaces or control characters in its path")
        }
        self.init(host: host, port: port, target: target)
    }

    /// Resolves a reference from a description (`/UD/?6`, `ctl/IPConn`, or absolute) against this URL.
    /// - Throws: ``ProtocolViolation`` when the result is not an acceptable gateway URL.
    public func resolving(_ reference: String) throws -> GatewayURL {
        let reference = reference.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reference.isEmpty else { throw ProtocolViolation("empty URL reference") }
        guard !reference.contains(where: { $0.isWhitespace || ($0.asciiValue.map { $0 < 0x20 || $0 == 0x7f } ?? false) }) else {
            throw ProtocolViolation("URL reference \(Self.quoted(reference)) has spaces or control characters")
        }
        if reference.lowercased().hasPrefix("http://") { return try GatewayURL(parsing: reference) }
        if reference.contains("://") { throw ProtocolViolation("URL \(Self.quoted(reference)) is not http://") }
        guard let base = URL(string: description), let resolved = URL(string: reference, relativeTo: base)?.absoluteString else {
            throw ProtocolViolation("URL reference \(Self.quoted(reference)) cannot be resolved against \(description)")
        }
        return try GatewayURL(parsing: resolved)
    }

    public var description: String {
        port == 80 ? "http://\(host)\(target)" : "http://\(host):\(port)\(target)"
    }

    /// The `Host:` header value.
    public var hostHeader: String { port == 80 ? "\(host)" : "\(host):\(port)" }

    static func quoted(_ text: String) -> String {
        "'" + String(text.unicodeScalars.prefix(120).map { $0.value < 0x20 ? "?" : Character($0) }) + "'"
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(parsing: text) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(error)"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension SSDP {
    /// Accepts a reply's LOCATION only when it is `http://` on the IP literal the reply came from.
    /// - Throws: ``ProtocolViolation`` saying why it was refused.
    public static func validateLocation(_ location: String, source: IPv4Address) throws -> GatewayURL {
        let url = try GatewayURL(parsing: location)
        guard url.host == source else {
            throw ProtocolViolation("LOCATION \(location) names \(url.host), but the reply came from \(source)")
        }
        return url
    }
}
