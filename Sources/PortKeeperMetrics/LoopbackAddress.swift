import IGDProtocol

/// Where the metrics endpoint listens: a loopback address and a port, nothing else. Metrics
/// say which ports a host exposes, so they are served to this machine only (a scraper elsewhere
/// reads the textfile through node_exporter, or a proxy the operator chooses).
public struct LoopbackAddress: Sendable, Equatable, CustomStringConvertible {
    /// Why a text is not a loopback address and port, in one line.
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// An IPv4 address in 127.0.0.0/8, or `::1`.
    public let host: String
    /// 0 asks the system for a free port.
    public let port: Int

    /// Reads `127.0.0.1:9464` or `[::1]:9464`.
    /// - Throws: ``ParseError`` for anything else: no port, a name (even `localhost`, which a
    ///   resolver could send elsewhere), or an address that is not loopback.
    public init(parsing text: String) throws(ParseError) {
        let example = "a loopback address and port such as 127.0.0.1:9464 or [::1]:9464"
        guard let colon = text.lastIndex(of: ":") else { throw ParseError(description: "'\(text)' has no port: give \(example)") }
        var host = String(text[..<colon])
        let portText = text[text.index(after: colon)...]
        guard let port = Int(portText), (0...65_535).contains(port), portText.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw ParseError(description: "'\(portText)' is not a port (0 to 65535): give \(example)")
        }
        if host.hasPrefix("["), host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
            guard host == "::1" else { throw ParseError(description: "\(host) is not the IPv6 loopback address: metrics are served to this machine only; give \(example)") }
        } else if let address = IPv4Address(host) {
            guard address.octets.0 == 127 else {
                throw ParseError(description: "\(host) is not a loopback address: metrics are served to this machine only; give \(example)")
            }
            host = address.description
        } else {
            throw ParseError(description: "'\(host)' is not an IP address: give \(example)")
        }
        self.host = host
        self.port = port
    }

    /// An address already known to be loopback (the one the system bound).
    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `127.0.0.1:9464`, `[::1]:9464`.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
