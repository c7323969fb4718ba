import Foundation

/// One datagram received by a ``FakeSSDPResponder``, read as an SSDP search.
///
/// Every datagram is recorded and handed to the handler, M-SEARCH or not; ``method`` tells.
public struct FakeSSDPSearch: Sendable {
    /// The datagram as text (UTF-8, invalid sequences replaced).
    public var raw: String
    /// The first token of the start line, e.g. "M-SEARCH" or "NOTIFY".
    public var method: String
    /// The header fields in order, names in their original case.
    public var headers: [(name: String, value: String)]
    /// The address the datagram came from.
    public var sourceHost: String
    /// The port the datagram came from.
    public var sourcePort: Int

    /// Parses `raw` (an HTTPU message) sent from `sourceHost`:`sourcePort`.
    public init(raw: String, sourceHost: String, sourcePort: Int) {
        self.raw = raw
        self.sourceHost = sourceHost
        self.sourcePort = sourcePort
        // "\r\n" is a single Character, which isNewline covers along with a bare "\n".
        var lines = raw.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        let startLine = lines.isEmpty ? "" : lines.removeFirst()
        method = String(startLine.split(separator: " ").first ?? "")
        headers = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty else { continue }
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers.append((name: name, value: value))
        }
    }

    /// The value of the first header called `name`, compared case-insensitively.
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }

    /// The search target (the ST header).
    public var searchTarget: String? { header("ST") }

    /// The maximum wait in seconds the searcher allows (the MX header), as sent.
    public var mx: String? { header("MX") }
}

/// A datagram a ``FakeSSDPResponder`` sends, possibly later and possibly elsewhere.
public struct FakeSSDPDatagram: Sendable {
    /// The bytes to send.
    public var bytes: [UInt8]
    /// How long to wait before sending (other datagrams are handled meanwhile).
    public var delay: Duration
    /// Where to send it; nil sends it back to the searcher.
    public var to: (host: String, port: Int)?

    /// Creates a datagram of `bytes`, sent after `delay` to `to` (nil: back to the searcher).
    public init(bytes: [UInt8], delay: Duration = .zero, to: (host: String, port: Int)? = nil) {
        self.bytes = bytes
        self.delay = delay
        self.to = to
    }

    /// A well-formed answer to an M-SEARCH: "HTTP/1.1 200 OK" with CACHE-CONTROL, EXT, SERVER,
    /// ST, USN, LOCATION and then `extraHeaders`.
    public static func searchResponse(
        st: String,
        usn: String,
        location: String,
        extraHeaders: [(String, String)] = [],
        delay: Duration = .zero
    ) -> FakeSSDPDatagram {
        var text = "HTTP/1.1 200 OK\r\n"
        text += "CACHE-CONTROL: max-age=120\r\n"
        text += "EXT:\r\n"
        text += "SERVER: Linux/6.1 UPnP/1.1 IGDTestSupport/1.0\r\n"
        text += "ST: \(st)\r\n"
        text += "USN: \(usn)\r\n"
        text += "LOCATION: \(location)\r\n"
        for (name, value) in extraHeaders {
            text += "\(name): \(value)\r\n"
        }
        text += "\r\n"
        return FakeSSDPDatagram(bytes: Array(text.utf8), delay: delay)
    }
}
