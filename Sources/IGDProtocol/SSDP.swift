/// SSDP messages (UPnP Device Architecture 1.1, §1): building M-SEARCH requests and
/// parsing search responses and NOTIFY announcements. Pure: bytes in, values out.
public enum SSDP {
    /// The largest datagram accepted; real replies are well under 1 KiB.
    public static let maxDatagramBytes = 8192
    static let maxHeaders = 64

    /// An M-SEARCH request for `searchTarget`.
    /// - Parameters:
    ///   - searchTarget: what to search for (ST): a device or service type.
    ///   - mx: seconds a device may wait before answering (UDA: 1...5).
    ///   - host: the HOST header's address: the multicast group, or a unicast target.
    ///   - port: the HOST header's port.
    public static func searchRequest(searchTarget: String, mx: Int, host: String = UPnP.ssdpMulticastAddress, port: Int = UPnP.ssdpPort) -> [UInt8] {
        let text = "M-SEARCH * HTTP/1.1\r\n"
            + "HOST: \(host):\(port)\r\n"
            + "MAN: \"ssdp:discover\"\r\n"
            + "MX: \(min(max(mx, 1), 5))\r\n"
            + "ST: \(searchTarget)\r\n"
            + "USER-AGENT: Linux/1 UPnP/1.1 portkeeper/0.1\r\n"
            + "\r\n"
        return Array(text.utf8)
    }

    /// A parsed SSDP datagram: its start line and headers (names lower-cased).
    public struct Message: Sendable, Equatable {
        /// The first line ("HTTP/1.1 200 OK", "NOTIFY * HTTP/1.1").
        public let startLine: String
        /// The headers by lower-cased name.
        public let headers: [String: String]

        /// The header `name`, in any case; nil when it is absent.
        public subscript(_ name: String) -> String? { headers[name.lowercased()] }
    }

    /// Parses an HTTP-over-UDP datagram.
    /// - Throws: ``ProtocolViolation`` for oversized or malformed datagrams.
    public static func parse(_ bytes: some Collection<UInt8>) throws -> Message {
        guard bytes.count <= maxDatagramBytes else { throw ProtocolViolation("SSDP datagram over \(maxDatagramBytes) bytes") }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw ProtocolViolation("SSDP datagram is not UTF-8") }
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
        guard !lines.isEmpty, !lines[0].isEmpty else { throw ProtocolViolation("SSDP datagram has no start line") }
        let startLine = lines.removeFirst()
        var headers: [String: String] = [:]
        for line in lines {
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingWhitespace().lowercased()
            let value = line[line.index(after: colon)...].trimmingWhitespace()
            guard !name.isEmpty else { continue }
            if headers[name] == nil { headers[name] = value }
            guard headers.count <= maxHeaders else { throw ProtocolViolation("SSDP datagram has too many headers") }
        }
        return Message(startLine: startLine, headers: headers)
    }

    /// A device's answer to an M-SEARCH.
    public struct SearchResponse: Sendable, Equatable {
        /// The search target it answers to (ST).
        public let searchTarget: String
        /// Its unique service name (USN): the UDN, then "::" and the type.
        public let usn: String
        /// Where its description is (LOCATION), as sent; checked before it is followed.
        public let location: String
        /// Its SERVER header, if any.
        public let server: String?
        /// Its BOOTID.UPNP.ORG, if any: it changes at each restart.
        public let bootID: UInt32?

        /// The device's UDN ("uuid:…"), the part of the USN before "::".
        public var udn: String { SSDP.udn(fromUSN: usn) }
    }

    /// Parses a search response; nil when the datagram is not one (another M-SEARCH, a NOTIFY).
    public static func parseSearchResponse(_ bytes: some Collection<UInt8>) throws -> SearchResponse? {
        let message = try parse(bytes)
        let parts = message.startLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].uppercased().hasPrefix("HTTP/"), parts[1] == "200" else { return nil }
        guard let st = message["st"], let usn = message["usn"], let location = message["location"] else {
            throw ProtocolViolation("SSDP response lacks ST, USN or LOCATION")
        }
        return SearchResponse(
            searchTarget: st, usn: usn, location: location, server: message["server"],
            bootID: message["bootid.upnp.org"].flatMap { UInt32($0) }
        )
    }

    /// An `ssdp:alive`, `ssdp:byebye` or `ssdp:update` announcement.
    public struct Notify: Sendable, Equatable {
        /// What the device announces (NTS).
        public enum Kind: String, Sendable {
            /// It is there (it started, or re-announces).
            case alive = "ssdp:alive"
            /// It is leaving.
            case byebye = "ssdp:byebye"
            /// Its BOOTID or configuration changed.
            case update = "ssdp:update"
        }
        /// What it announces.
        public let kind: Kind
        /// The type announced (NT).
        public let notificationType: String
        /// Its unique service name (USN).
        public let usn: String
        /// Where its description is (LOCATION); a byebye has none.
        public let location: String?
        /// Its BOOTID.UPNP.ORG, if any.
        public let bootID: UInt32?
        /// The device's UDN, the part of the USN before "::".
        public var udn: String { SSDP.udn(fromUSN: usn) }
    }

    /// Parses a NOTIFY; nil when the datagram is something else.
    public static func parseNotify(_ bytes: some Collection<UInt8>) throws -> Notify? {
        let message = try parse(bytes)
        guard message.startLine.uppercased().hasPrefix("NOTIFY ") else { return nil }
        guard let nts = message["nts"], let kind = Notify.Kind(rawValue: nts.lowercased()),
              let nt = message["nt"], let usn = message["usn"]
        else { throw ProtocolViolation("SSDP NOTIFY lacks NT, NTS or USN") }
        return Notify(
            kind: kind, notificationType: nt, usn: usn, location: message["location"],
            bootID: message["bootid.upnp.org"].flatMap { UInt32($0) }
        )
    }

    static func udn(fromUSN usn: String) -> String {
        if let range = usn.range(of: "::") { return String(usn[..<range.lowerBound]) }
        return usn
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces, tabs and stray CRs (a CR left before the line end,
    /// as in "NT: upnp:rootdevice\r \r\n", is never part of a value; found by fuzzing).
    ///
    /// Trims Unicode scalars, not Characters: a space followed by a combining mark is one
    /// Character, so trimming by Character would keep the space of "usn: \u{064C}" and a value
    /// would not read back the same once re-encoded (found by fuzzing).
    func trimmingWhitespace() -> String {
        var scalars = Substring(self).unicodeScalars
        let blank: (Unicode.Scalar) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        while let first = scalars.first, blank(first) { scalars.removeFirst() }
        while let last = scalars.last, blank(last) { scalars.removeLast() }
        return String(scalars)
    }
}
