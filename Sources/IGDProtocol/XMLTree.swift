import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// An element of a parsed XML document, named by its local name (prefix dropped).
public struct XMLElement: Sendable, Equatable {
    public var name: String
    public var attributes: [String: String]
    public var children: [XMLElement]
    /// The element's own character data, trimmed of surrounding whitespace.
    public var text: String

    /// The first child with this local name.
    public func child(_ name: String) -> XMLElement? {
        children.first { $0.name == name }
    }

    /// The trimmed text of the first child with this local name.
    public func childText(_ name: String) -> String? {
        child(name)?.text
    }

    /// Every descendant (depth first, document order) with this local name.
    public func descendants(_ name: String) -> [XMLElement] {
        children.flatMap { ($0.name == name ? [$0] : []) + $0.descendants(name) }
    }
}

/// Bounds on what the XML parser accepts from a gateway.
public struct XMLLimits: Sendable {
    public var maxBytes: Int
    public var maxDepth: Int
    public var maxElements: Int
    public var maxTextBytes: Int

    public init(maxBytes: Int = 1 << 20, maxDepth: Int = 32, maxElements: Int = 20_000, maxTextBytes: Int = 256 << 10) {
        self.maxBytes = maxBytes
        self.maxDepth = maxDepth
        self.maxElements = maxElements
        self.maxTextBytes = maxTextBytes
    }

    public static let gateway = XMLLimits()
}

/// Parses untrusted XML into an ``XMLElement`` tree with a real parser.
///
/// Document type declarations are refused outright (no entity can be declared, so none can
/// expand), and size, depth, element count and text length are capped.
public enum XMLTree {
    /// - Throws: ``ProtocolViolation`` naming what was wrong.
    public static func parse(_ bytes: some Collection<UInt8>, limits: XMLLimits = .gateway) throws -> XMLElement {
        guard bytes.count <= limits.maxBytes else {
            throw ProtocolViolation("XML document is \(bytes.count) bytes, over the \(limits.maxBytes)-byte limit")
        }
        let data = Data(bytes)
        try requireASCIICompatibleEncoding(data)
        if containsDeclaration(data) {
            throw ProtocolViolation("XML document declares a DOCTYPE or ENTITY, which is refused")
        }
        let builder = TreeBuilder(limits: limits)
        let parser = XMLParser(data: data)
        parser.shouldProcessNamespaces = false
        parser.shouldReportNamespacePrefixes = false
        parser.shouldResolveExternalEntities = false
        parser.delegate = builder
        let ok = parser.parse()
        if let violation = builder.violation { throw violation }
        // libxml2 reports trailing content after the root as an error yet returns success.
        // Namespace complaints (undeclared prefixes, relative URIs) are tolerated: elements
        // are matched by local name, and real routers get namespaces wrong.
        let fatal = parser.parserError.map { !namespaceWarningCodes.contains(($0 as NSError).code) } ?? false
        guard ok, !fatal, let root = builder.root else {
            let reason = parser.parserError.map { "\($0.localizedDescription)" } ?? "no root element"
            throw ProtocolViolation("malformed XML (\(reason), line \(parser.lineNumber))")
        }
        return root
    }

    /// The declaration scan reads bytes as ASCII, so only encodings that keep ASCII as ASCII
    /// are accepted: no NUL bytes (UTF-16/32), no UTF-16/32 byte-order mark, and an XML
    /// declaration naming UTF-8, US-ASCII or ISO-8859-1 if it names any.
    static func requireASCIICompatibleEncoding(_ data: Data) throws {
        if data.starts(with: [0xFE, 0xFF]) || data.starts(with: [0xFF, 0xFE]) || data.contains(0) {
            throw ProtocolViolation("XML document is not UTF-8 (UTF-16 or UTF-32), which is refused")
        }
        let head = String(decoding: data.prefix(200), as: UTF8.self)
        guard head.hasPrefix("<?xml") || head.drop(while: { $0 == "\u{FEFF}" || $0.isWhitespace }).hasPrefix("<?xml"),
              let end = head.range(of: "?>"), let encodingRange = head.range(of: "encoding", range: head.startIndex..<end.lowerBound)
        else { return }
        let declared = head[encodingRange.upperBound..<end.lowerBound]
            .drop(while: { $0 == " " || $0 == "=" || $0 == "\"" || $0 == "'" })
            .prefix(while: { $0 != "\"" && $0 != "'" && $0 != " " })
            .lowercased()
        let accepted = ["utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin1"]
        guard accepted.contains(declared) else {
            throw ProtocolViolation("XML document declares encoding '\(declared.prefix(20))', which is refused (UTF-8 expected)")
        }
    }

    /// True when `<!DOCTYPE` or `<!ENTITY` appears anywhere, in any case.
    static func containsDeclaration(_ data: Data) -> Bool {
        let needles: [[UInt8]] = [Array("<!DOCTYPE".utf8), Array("<!ENTITY".utf8)]
        let bytes = [UInt8](data)
        guard bytes.count >= 8 else { return false }
        for start in 0..<(bytes.count - 1) where bytes[start] == UInt8(ascii: "<") && bytes[start + 1] == UInt8(ascii: "!") {
            for needle in needles where start + needle.count <= bytes.count {
                var match = true
                for (offset, expected) in needle.enumerated() {
                    let byte = bytes[start + offset]
                    let upper = (byte >= 97 && byte <= 122) ? byte - 32 : byte
                    if upper != expected { match = false; break }
                }
                if match { return true }
            }
        }
        return false
    }

    /// libxml2's XML_WAR_NS_URI, XML_WAR_NS_URI_RELATIVE and XML_NS_ERR_* codes.
    static let namespaceWarningCodes: Set<Int> = [99, 100, 200, 201, 202, 203, 204, 205]

    /// "s:Envelope" -> "Envelope".
    static func localName(_ qualified: String) -> String {
        guard let colon = qualified.lastIndex(of: ":") else { return qualified }
        return String(qualified[qualified.index(after: colon)...])
    }
}

private final class TreeBuilder: NSObject, XMLParserDelegate {
    let limits: XMLLimits
    var stack: [XMLElement] = []
    var texts: [String] = []
    var root: XMLElement?
    var elementCount = 0
    var textBytes = 0
    var violation: ProtocolViolation?

    init(limits: XMLLimits) {
        self.limits = limits
    }

    func fail(_ parser: XMLParser, _ message: String) {
        if violation == nil { violation = ProtocolViolation(message) }
        parser.abortParsing()
    }

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
        qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]
    ) {
        elementCount += 1
        guard elementCount <= limits.maxElements else {
            return fail(parser, "XML document has more than \(limits.maxElements) elements")
        }
        guard stack.count < limits.maxDepth else {
            return fail(parser, "XML document nests deeper than \(limits.maxDepth) levels")
        }
        stack.append(XMLElement(name: XMLTree.localName(elementName), attributes: attributeDict, children: [], text: ""))
        texts.append("")
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        appendText(parser, string)
    }

    func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
        appendText(parser, String(decoding: CDATABlock, as: UTF8.self))
    }

    func appendText(_ parser: XMLParser, _ string: String) {
        guard !texts.isEmpty else { return }
        textBytes += string.utf8.count
        guard textBytes <= limits.maxTextBytes else {
            return fail(parser, "XML document has more than \(limits.maxTextBytes) bytes of text")
        }
        texts[texts.count - 1] += string
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
        guard var element = stack.popLast(), let text = texts.popLast() else { return }
        element.text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if stack.isEmpty {
            root = element
        } else {
            stack[stack.count - 1].children.append(element)
        }
    }

    // Belt and braces: the byte scan already refuses declarations.
    func parser(_ parser: XMLParser, foundInternalEntityDeclarationWithName name: String, value: String?) {
        fail(parser, "XML document declares an entity, which is refused")
    }

    func parser(_ parser: XMLParser, foundExternalEntityDeclarationWithName name: String, publicID: String?, systemID: String?) {
        fail(parser, "XML document declares an external entity, which is refused")
    }

    func parser(_ parser: XMLParser, resolveExternalEntityName name: String, systemID: String?) -> Data? {
        fail(parser, "XML document refers to an external entity, which is refused")
        return nil
    }
}
