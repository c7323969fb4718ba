/// Turns a gateway's bytes into checked UTF-8 for ``XMLScanner``.
///
/// After `decode`, every byte sequence is valid UTF-8, every character is one XML 1.0 allows
/// (§2.2), and line ends are normalized to LF (§2.11), so the scanner only has to look at
/// ASCII delimiters.
enum XMLInput {
    /// What the scanner reads: the document from its first byte, and where its content starts
    /// (after a byte-order mark and the XML declaration, if any).
    struct Decoded {
        var bytes: [UInt8]
        var contentStart: Int
    }

    private enum Encoding { case utf8, ascii, latin1 }

    /// - Throws: ``ProtocolViolation`` for UTF-16/32, a refused declared encoding, bytes that are
    ///   not UTF-8, or characters XML does not allow, naming the line.
    static func decode(_ raw: [UInt8]) throws -> Decoded {
        // UDA 1.1 requires UTF-8; UTF-16/32 show a BOM or a NUL among the first bytes.
        if raw.starts(with: [0xFE, 0xFF]) || raw.starts(with: [0xFF, 0xFE]) || raw.prefix(4).contains(0) {
            throw ProtocolViolation("XML document is not UTF-8 (UTF-16 or UTF-32), which is refused")
        }
        let begin = raw.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        let declaration = try XMLDeclaration.parse(raw, at: begin)
        let encoding: Encoding
        switch declaration?.encoding?.lowercased() {
        case nil, "utf-8", "utf8": encoding = .utf8
        case "us-ascii", "ascii": encoding = .ascii
        case "iso-8859-1", "latin1": encoding = .latin1
        case let other?:
            throw ProtocolViolation("XML document declares encoding '\(other.prefix(20))', which is refused (UTF-8 expected)")
        }
        let declarationEnd = declaration?.end ?? begin
        var out: [UInt8] = []
        out.reserveCapacity(encoding == .latin1 ? 2 * raw.count : raw.count)
        out.append(contentsOf: raw[begin..<declarationEnd])  // ASCII, checked by XMLDeclaration
        var i = declarationEnd
        let n = raw.count
        while i < n {
            let byte = raw[i]
            if byte < 0x80 {
                if byte == 0x0D {
                    out.append(0x0A)
                    i += (i + 1 < n && raw[i + 1] == 0x0A) ? 2 : 1
                    continue
                }
                guard byte >= 0x20 || byte == 0x09 || byte == 0x0A else {
                    throw notAllowed(UInt32(byte), raw, i)
                }
                out.append(byte)
                i += 1
                continue
            }
            switch encoding {
            case .latin1:
                // ISO-8859-1 maps each byte to the code point of the same value.
                out.append(0xC0 | (byte >> 6))
                out.append(0x80 | (byte & 0x3F))
                i += 1
            case .ascii:
                throw ProtocolViolation("XML document declares US-ASCII but has byte 0x\(hex(byte)) (line \(line(raw, i)), offset \(i))")
            case .utf8:
                let length = try scalarLength(raw, i)
                out.append(contentsOf: raw[i..<(i + length)])
                i += length
            }
        }
        return Decoded(bytes: out, contentStart: declarationEnd - begin)
    }

    /// The length of the well-formed UTF-8 sequence at `i` (lead byte 0x80 or above), whose
    /// scalar XML allows. Strict: no overlong forms, no surrogates, nothing above U+10FFFF.
    private static func scalarLength(_ raw: [UInt8], _ i: Int) throws -> Int {
        let lead = raw[i]
        let length: Int
        var scalar: UInt32
        switch lead {
        case 0xC2...0xDF: length = 2; scalar = UInt32(lead & 0x1F)
        case 0xE0...0xEF: length = 3; scalar = UInt32(lead & 0x0F)
        case 0xF0...0xF4: length = 4; scalar = UInt32(lead & 0x07)
        default: throw notUTF8(raw, i, "byte 0x\(hex(lead))")
        }
        for k in 1..<length {
            guard i + k < raw.count else { throw notUTF8(raw, i, "truncated sequence at the end") }
            let next = raw[i + k]
            guard next & 0xC0 == 0x80 else { throw notUTF8(raw, i, "truncated sequence before byte 0x\(hex(next))") }
            scalar = (scalar << 6) | UInt32(next & 0x3F)
        }
        let smallest: UInt32 = [0, 0, 0x80, 0x800, 0x10000][length]
        guard scalar >= smallest, scalar <= 0x10FFFF, !(0xD800...0xDFFF).contains(scalar) else {
            throw notUTF8(raw, i, "ill-formed sequence")
        }
        guard isXMLChar(scalar) else { throw notAllowed(scalar, raw, i) }
        return length
    }

    /// XML 1.0 §2.2 Char: tab, LF, CR, and everything from U+0020 except surrogates, U+FFFE, U+FFFF.
    static func isXMLChar(_ value: UInt32) -> Bool {
        switch value {
        case 0x09, 0x0A, 0x0D, 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: true
        default: false
        }
    }

    /// The 1-based line of byte `offset` (LF-terminated lines; the input's own, before normalization).
    static func line(_ bytes: [UInt8], _ offset: Int) -> Int {
        var count = 1
        for k in 0..<min(offset, bytes.count) where bytes[k] == 0x0A { count += 1 }
        return count
    }

    static func hex(_ value: some BinaryInteger, width: Int = 2) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    private static func notUTF8(_ raw: [UInt8], _ i: Int, _ what: String) -> ProtocolViolation {
        ProtocolViolation("XML document is not valid UTF-8 (\(what), line \(line(raw, i)), offset \(i))")
    }

    private static func notAllowed(_ scalar: UInt32, _ raw: [UInt8], _ i: Int) -> ProtocolViolation {
        ProtocolViolation("XML document contains U+\(hex(scalar, width: 4)), which XML does not allow (line \(line(raw, i)), offset \(i))")
    }
}

/// The XML declaration (`<?xml version="1.0" encoding="..."?>`, §2.8), read before decoding
/// because it names the encoding. It is ASCII by definition.
enum XMLDeclaration {
    /// Where the declaration ends and the encoding it names; nil when the document has none.
    static func parse(_ raw: [UInt8], at begin: Int) throws -> (end: Int, encoding: String?)? {
        let open = Array("<?xml".utf8)
        guard raw.count > begin + open.count, Array(raw[begin..<(begin + open.count)]) == open,
              isSpace(raw[begin + open.count])
        else { return nil }
        func malformed(_ what: String) -> ProtocolViolation {
            ProtocolViolation("malformed XML declaration (\(what), line 1)")
        }
        var i = begin + open.count
        var seen: [String] = []
        var encoding: String?
        while true {
            var spaced = false
            while i < raw.count, isSpace(raw[i]) { i += 1; spaced = true }
            guard i < raw.count, i - begin < 512 else { throw malformed("not closed by '?>'") }
            if raw[i] == UInt8(ascii: "?") {
                guard i + 1 < raw.count, raw[i + 1] == UInt8(ascii: ">") else { throw malformed("'?' without '>'") }
                guard seen.first == "version" else { throw malformed("no version") }
                return (i + 2, encoding)
            }
            guard spaced else { throw malformed("missing whitespace") }
            let nameStart = i
            while i < raw.count, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(raw[i]) { i += 1 }
            let name = String(decoding: raw[nameStart..<i], as: UTF8.self)
            while i < raw.count, isSpace(raw[i]) { i += 1 }
            guard i < raw.count, raw[i] == UInt8(ascii: "=") else { throw malformed("expected '=' after '\(name.prefix(20))'") }
            i += 1
            while i < raw.count, isSpace(raw[i]) { i += 1 }
            guard i < raw.count, raw[i] == UInt8(ascii: "\"") || raw[i] == UInt8(ascii: "'") else {
                throw malformed("unquoted value")
            }
            let quote = raw[i]
            i += 1
            let valueStart = i
            while i < raw.count, raw[i] != quote, i - begin < 512 {
                guard raw[i] >= 0x21, raw[i] < 0x7F else { throw malformed("unexpected byte 0x\(XMLInput.hex(raw[i])) in a value") }
                i += 1
            }
            guard i < raw.count, raw[i] == quote else { throw malformed("value not closed") }
            let value = String(decoding: raw[valueStart..<i], as: UTF8.self)
            i += 1
            let order = ["version", "encoding", "standalone"]
            guard let position = order.firstIndex(of: name),
                  (seen.last.flatMap { order.firstIndex(of: $0) } ?? -1) < position,
                  seen.isEmpty == (name == "version")
            else { throw malformed("unexpected '\(name.prefix(20))'") }
            switch name {
            case "version":
                // What FoundationXML (libxml2) accepted: 1.0 and 1.1, nothing else.
                guard value == "1.0" || value == "1.1" else {
                    throw malformed("version '\(value.prefix(20))'")
                }
            case "encoding":
                guard let first = value.first, first.isASCIILetter,
                      value.allSatisfy({ $0.isASCIILetter || $0.isASCIIDigit || "._-".contains($0) })
                else { throw malformed("encoding name '\(value.prefix(20))'") }
                encoding = value
            default:
                guard value == "yes" || value == "no" else { throw malformed("standalone '\(value.prefix(20))'") }
            }
            seen.append(name)
        }
    }

    /// XML's S: space, tab, LF, CR.
    static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}

private extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
    var isASCIILetter: Bool { isASCII && isLetter }
}
