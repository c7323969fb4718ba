import Foundation

/// Builds an ``XMLElement`` tree from input that ``XMLInput`` has checked, in one pass.
///
/// The subset UPnP needs: elements, attributes, character data, the five predefined entities,
/// character references and CDATA. Comments and processing instructions are skipped; a
/// document type declaration is refused. Each byte is looked at a bounded number of times and
/// text is decoded to a String once per element, so time is linear in the input.
struct XMLScanner {
    private let bytes: [UInt8]
    private var i: Int
    private let limits: XMLLimits
    private var elementCount = 0
    private var textBytes = 0
    /// The open elements, outermost first.
    private var stack: [Open] = []
    /// Character data of the innermost open element, as UTF-8.
    private var text: [UInt8] = []
    private var root: XMLElement?

    private struct Open {
        var element: XMLElement
        /// The qualified name in `bytes`, which the end tag must repeat.
        var name: Range<Int>
        /// The parent's character data so far, set aside while this element is open.
        var parentText: [UInt8]
    }

    init(_ input: XMLInput.Decoded, limits: XMLLimits) {
        self.bytes = input.bytes
        self.i = input.contentStart
        self.limits = limits
    }

    /// - Throws: ``ProtocolViolation`` naming what was wrong and the line.
    mutating func document() throws -> XMLElement {
        while i < bytes.count {
            let byte = bytes[i]
            if byte == ascii("<") {
                try markup()
            } else if !stack.isEmpty {
                try characterData()
            } else if XMLDeclaration.isSpace(byte) {
                i += 1
            } else {
                throw malformed(root == nil ? "text before the root element" : "content after the root element")
            }
        }
        if let open = stack.last {
            throw malformed("document ends inside <\(shown(name(open.name)))>")
        }
        guard let root else { throw malformed("no root element") }
        return root
    }

    // MARK: markup

    private mutating func markup() throws {
        switch peek(1) {
        case ascii("?"):
            try processingInstruction()
        case ascii("!"):
            if starts(with: "<!--") {
                try comment()
            } else if starts(with: "<![CDATA[") {
                guard !stack.isEmpty else { throw malformed("CDATA section outside the root element") }
                try cdata()
            } else if starts(with: "<!DOCTYPE", anyCase: true) || starts(with: "<!ENTITY", anyCase: true) {
                throw ProtocolViolation("XML document declares a DOCTYPE or ENTITY, which is refused (line \(line))")
            } else {
                throw malformed("unknown markup after '<!'")
            }
        case ascii("/"):
            guard !stack.isEmpty else { throw malformed(root == nil ? "end tag before the root element" : "content after the root element") }
            try endTag()
        default:
            guard root == nil else { throw malformed("content after the root element") }
            try startTag()
        }
    }

    private mutating func startTag() throws {
        i += 1
        let nameRange = try scanName("element name")
        elementCount += 1
        guard elementCount <= limits.maxElements else {
            throw ProtocolViolation("XML document has more than \(limits.maxElements) elements (line \(line))")
        }
        guard stack.count < limits.maxDepth else {
            throw ProtocolViolation("XML document nests deeper than \(limits.maxDepth) levels (line \(line))")
        }
        let qualified = name(nameRange)
        try checkQualified(qualified, "element name")
        var element = XMLElement(name: XMLTree.localName(qualified), text: "", prefix: XMLTree.prefix(qualified))
        while true {
            let spaced = skipSpace()
            guard i < bytes.count else { throw malformed("document ends inside the start tag <\(shown(qualified))>") }
            if bytes[i] == ascii(">") {
                i += 1
                stack.append(Open(element: element, name: nameRange, parentText: text))
                text = []
                return
            }
            if bytes[i] == ascii("/") {
                guard peek(1) == ascii(">") else { throw malformed("'/' not followed by '>' in <\(shown(qualified))>") }
                i += 2
                attach(element)
                return
            }
            guard spaced else { throw malformed("expected whitespace, '>' or '/>' in <\(shown(qualified))>") }
            let attributeName = name(try scanName("attribute name"))
            try checkQualified(attributeName, "attribute name")
            skipSpace()
            guard i < bytes.count, bytes[i] == ascii("=") else { throw malformed("attribute \(shown(attributeName)) has no '='") }
            i += 1
            skipSpace()
            let value = try attributeValue()
            guard element.attributes.count < limits.maxAttributes else {
                throw malformed("more than \(limits.maxAttributes) attributes in <\(shown(qualified))>")
            }
            guard element.attributes.updateValue(value, forKey: attributeName) == nil else {
                throw malformed("attribute \(shown(attributeName)) repeated in <\(shown(qualified))>")
            }
        }
    }

    private mutating func endTag() throws {
        i += 2
        let nameRange = try scanName("end tag name")
        skipSpace()
        guard i < bytes.count, bytes[i] == ascii(">") else { throw malformed("end tag </\(shown(name(nameRange)))> not closed by '>'") }
        var open = stack.removeLast()
        guard bytes[nameRange].elementsEqual(bytes[open.name]) else {
            throw malformed("end tag </\(shown(name(nameRange)))> does not match <\(shown(name(open.name)))>")
        }
        i += 1
        open.element.text = Self.trimmed(text)
        text = open.parentText
        attach(open.element)
    }

    /// Adds a finished element to its parent, or makes it the root.
    private mutating func attach(_ element: XMLElement) {
        if stack.isEmpty {
            root = element
        } else {
            stack[stack.count - 1].element.children.append(element)
        }
    }

    /// A quoted value, references resolved, tab and LF normalized to spaces (§3.3.3).
    private mutating func attributeValue() throws -> String {
        guard i < bytes.count, bytes[i] == ascii("\"") || bytes[i] == ascii("'") else {
            throw malformed("attribute value not quoted")
        }
        let quote = bytes[i]
        i += 1
        var value: [UInt8] = []
        while true {
            guard i < bytes.count else { throw malformed("document ends inside an attribute value") }
            let byte = bytes[i]
            switch byte {
            case quote:
                i += 1
                return String(decoding: value, as: UTF8.self)
            case ascii("<"):
                throw malformed("'<' in an attribute value")
            case ascii("&"):
                Self.appendUTF8(try reference(), to: &value)
            case 0x09, 0x0A:
                value.append(0x20)
                i += 1
            default:
                value.append(byte)
                i += 1
            }
        }
    }

    // MARK: character data

    private mutating func characterData() throws {
        let start = i
        while i < bytes.count {
            let byte = bytes[i]
            if byte == ascii("<") || byte == ascii("&") { break }
            if byte == ascii("]"), starts(with: "]]>") { throw malformed("']]>' in text") }
            i += 1
        }
        try appendText(bytes[start..<i])
        if i < bytes.count, bytes[i] == ascii("&") {
            let encoded = UTF8.encode(try reference())!
            textBytes += encoded.count
            guard textBytes <= limits.maxTextBytes else {
                throw ProtocolViolation("XML document has more than \(limits.maxTextBytes) bytes of text (line \(line))")
            }
            text.append(contentsOf: encoded)
        }
    }

    private mutating func cdata() throws {
        i += 9  // "<![CDATA["
        let start = i
        guard let end = find("]]>") else { throw malformed("CDATA section not closed by ']]>'") }
        try appendText(bytes[start..<end])
        i = end + 3
    }

    private mutating func appendText(_ chunk: ArraySlice<UInt8>) throws {
        textBytes += chunk.count
        guard textBytes <= limits.maxTextBytes else {
            throw ProtocolViolation("XML document has more than \(limits.maxTextBytes) bytes of text (line \(line))")
        }
        text.append(contentsOf: chunk)
    }

    /// `&lt;` `&gt;` `&amp;` `&apos;` `&quot;`, `&#NNN;` or `&#xHHH;`; anything else is refused
    /// (no entity is ever declared).
    private mutating func reference() throws -> Unicode.Scalar {
        i += 1
        if peek(0) == ascii("#") {
            i += 1
            let hex = peek(0) == ascii("x")
            if hex { i += 1 }
            var value: UInt32 = 0
            var digits = 0
            while i < bytes.count, let digit = Self.digit(bytes[i], hex: hex) {
                value = value * (hex ? 16 : 10) + digit
                guard value <= 0x10FFFF else { throw malformed("character reference beyond U+10FFFF") }
                digits += 1
                i += 1
            }
            guard digits > 0, peek(0) == ascii(";") else { throw malformed("malformed character reference") }
            i += 1
            guard XMLInput.isXMLChar(value), let scalar = Unicode.Scalar(value) else {
                throw malformed("character reference to U+\(XMLInput.hex(value, width: 4)), which XML does not allow")
            }
            return scalar
        }
        guard peek(0).map(Self.isNameStartByte) == true else { throw malformed("'&' not starting a reference") }
        let entity = try scanName("entity name")
        guard peek(0) == ascii(";") else { throw malformed("reference &\(shown(name(entity))) not closed by ';'") }
        i += 1
        for (spelling, scalar) in Self.predefined where bytes[entity].elementsEqual(spelling.utf8) {
            return scalar
        }
        throw malformed("reference to undeclared entity &\(shown(name(entity)));")
    }

    /// XML 1.0 §4.6.
    private static let predefined: [(String, Unicode.Scalar)] = [("lt", "<"), ("gt", ">"), ("amp", "&"), ("apos", "'"), ("quot", "\"")]

    // MARK: skipped markup

    private mutating func comment() throws {
        i += 4  // "<!--"
        guard let end = find("--") else { throw malformed("comment not closed by '-->'") }
        guard end + 2 < bytes.count, bytes[end + 2] == ascii(">") else {
            i = end
            throw malformed("'--' inside a comment")
        }
        i = end + 3
    }

    private mutating func processingInstruction() throws {
        i += 2
        let target = name(try scanName("processing instruction target"))
        // Names starting with "xml" are reserved (§2.6); "xml" itself is the declaration.
        guard !target.lowercased().hasPrefix("xml") || ["xml-stylesheet", "xml-model"].contains(target) else {
            throw malformed("processing instruction target '\(shown(target))' is reserved (an XML declaration must come first)")
        }
        if !starts(with: "?>") {
            guard skipSpace() else { throw malformed("expected whitespace after <?\(shown(target))") }
        }
        guard let end = find("?>") else { throw malformed("processing instruction not closed by '?>'") }
        i = end + 2
    }

    // MARK: names

    /// Scans an XML 1.0 Name (§2.3) at `i`, capped at `limits.maxNameBytes`.
    private mutating func scanName(_ what: String) throws -> Range<Int> {
        let start = i
        while i < bytes.count {
            let (scalar, length) = decodeScalar(at: i)
            let allowed = i == start ? Self.isNameStart(scalar) : Self.isNameChar(scalar)
            guard allowed else { break }
            i += length
            guard i - start <= limits.maxNameBytes else {
                throw malformed("\(what) longer than \(limits.maxNameBytes) bytes")
            }
        }
        guard i > start else {
            throw malformed(i < bytes.count ? "expected \(what), found \(describe(at: i))" : "document ends where \(what) was expected")
        }
        return start..<i
    }

    /// A name must also be a qualified name (Namespaces in XML 1.0 §3): at most one colon, with
    /// a prefix before it and a local part after it that starts as a name starts. "a:b:c" or
    /// "p:2" are XML 1.0 names, but their local part ("c"? "b:c"? "2") is no element a SOAP
    /// answer can carry, and "2" could not even be written back (found by fuzzing).
    private func checkQualified(_ qualified: String, _ what: String) throws {
        let parts = qualified.unicodeScalars.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2 else {
            throw malformed("\(what) \(shown(qualified)) has more than one colon")
        }
        guard parts.count == 2 else { return }
        guard let first = parts[1].first, !parts[0].isEmpty, Self.isNameStart(first.value) else {
            throw malformed("\(what) \(shown(qualified)) is not a prefix and a local name")
        }
    }

    /// Input is valid UTF-8 by now.
    private func decodeScalar(at k: Int) -> (UInt32, Int) {
        let lead = bytes[k]
        switch lead {
        case ..<0x80: return (UInt32(lead), 1)
        case ..<0xE0: return ((UInt32(lead & 0x1F) << 6) | UInt32(bytes[k + 1] & 0x3F), 2)
        case ..<0xF0:
            return ((UInt32(lead & 0x0F) << 12) | (UInt32(bytes[k + 1] & 0x3F) << 6) | UInt32(bytes[k + 2] & 0x3F), 3)
        default:
            return ((UInt32(lead & 0x07) << 18) | (UInt32(bytes[k + 1] & 0x3F) << 12)
                | (UInt32(bytes[k + 2] & 0x3F) << 6) | UInt32(bytes[k + 3] & 0x3F), 4)
        }
    }

    static func isNameStart(_ v: UInt32) -> Bool {
        switch v {
        case 0x3A, 0x41...0x5A, 0x5F, 0x61...0x7A, 0xC0...0xD6, 0xD8...0xF6, 0xF8...0x2FF, 0x370...0x37D,
             0x37F...0x1FFF, 0x200C...0x200D, 0x2070...0x218F, 0x2C00...0x2FEF, 0x3001...0xD7FF,
             0xF900...0xFDCF, 0xFDF0...0xFFFD, 0x10000...0xEFFFF:
            true
        default:
            false
        }
    }

    static func isNameChar(_ v: UInt32) -> Bool {
        switch v {
        case 0x2D, 0x2E, 0x30...0x39, 0xB7, 0x300...0x36F, 0x203F...0x2040: true
        default: isNameStart(v)
        }
    }

    private static func isNameStartByte(_ byte: UInt8) -> Bool {
        byte >= 0x80 || isNameStart(UInt32(byte))
    }

    // MARK: helpers

    /// The text decoded and trimmed of whitespace and newlines as Foundation defines them
    /// (`CharacterSet.whitespacesAndNewlines`), looking only at the ends.
    static func trimmed(_ utf8: [UInt8]) -> String {
        guard let head = utf8.first, let tail = utf8.last else { return "" }
        func asciiSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }
        if head < 0x80, tail < 0x80, !asciiSpace(head), !asciiSpace(tail) {
            return String(decoding: utf8, as: UTF8.self)
        }
        let scalars = String(decoding: utf8, as: UTF8.self).unicodeScalars
        let space = CharacterSet.whitespacesAndNewlines
        guard let first = scalars.firstIndex(where: { !space.contains($0) }),
              let last = scalars.lastIndex(where: { !space.contains($0) })
        else { return "" }
        return String(scalars[first...last])
    }

    private static func digit(_ byte: UInt8, hex: Bool) -> UInt32? {
        switch byte {
        case ascii("0")...ascii("9"): UInt32(byte - ascii("0"))
        case ascii("a")...ascii("f") where hex: UInt32(byte - ascii("a") + 10)
        case ascii("A")...ascii("F") where hex: UInt32(byte - ascii("A") + 10)
        default: nil
        }
    }

    static func appendUTF8(_ scalar: Unicode.Scalar, to buffer: inout [UInt8]) {
        buffer.append(contentsOf: UTF8.encode(scalar)!)
    }

    private func peek(_ offset: Int) -> UInt8? {
        i + offset < bytes.count ? bytes[i + offset] : nil
    }

    /// True when the bytes at `i` spell `literal` (ASCII), optionally ignoring case.
    private func starts(with literal: StaticString, anyCase: Bool = false) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard i + count <= bytes.count else { return false }
        let pointer = literal.utf8Start
        for k in 0..<count {
            var byte = bytes[i + k]
            if anyCase, byte >= ascii("a"), byte <= ascii("z") { byte -= 32 }
            if byte != pointer[k] { return false }
        }
        return true
    }

    /// The offset of the next `literal` (two or three ASCII bytes) at or after `i`.
    private func find(_ literal: StaticString) -> Int? {
        let count = literal.utf8CodeUnitCount
        let pointer = literal.utf8Start
        var k = i
        while k + count <= bytes.count {
            if bytes[k] == pointer[0] {
                var match = true
                for m in 1..<count where bytes[k + m] != pointer[m] { match = false; break }
                if match { return k }
            }
            k += 1
        }
        return nil
    }

    @discardableResult
    private mutating func skipSpace() -> Bool {
        let start = i
        while i < bytes.count, XMLDeclaration.isSpace(bytes[i]) { i += 1 }
        return i > start
    }

    private func name(_ range: Range<Int>) -> String {
        String(decoding: bytes[range], as: UTF8.self)
    }

    /// A name for an error message, cut to 40 characters.
    private func shown(_ name: String) -> String {
        name.count > 40 ? name.prefix(40) + "…" : name
    }

    /// A character for an error message: printable ASCII as itself, anything else as U+XXXX.
    private func describe(at k: Int) -> String {
        let (scalar, _) = decodeScalar(at: k)
        if scalar > 0x20, scalar < 0x7F { return "'\(Character(Unicode.Scalar(UInt8(scalar))))'" }
        return "U+\(XMLInput.hex(scalar, width: 4))"
    }

    private var line: Int { XMLInput.line(bytes, i) }

    private func malformed(_ what: String) -> ProtocolViolation {
        ProtocolViolation("malformed XML (\(what), line \(line))")
    }
}

private func ascii(_ character: Unicode.Scalar) -> UInt8 {
    UInt8(ascii: character)
}
