/// An element of a parsed XML document, named by its local name (prefix dropped).
public struct XMLElement: Sendable, Equatable {
    /// The local name: "Envelope" for `<s:Envelope>`.
    public var name: String
    /// Attributes by qualified name ("xmlns:s", "s:encodingStyle"), values with references resolved.
    public var attributes: [String: String]
    /// Its child elements, in document order.
    public var children: [XMLElement]
    /// The element's own character data (text between its children concatenated), trimmed of
    /// surrounding whitespace.
    public var text: String
    /// The namespace prefix as written: "s" for `<s:Envelope>`, nil for `<Envelope>`.
    /// Kept so that ``serialized()`` writes the names back as they came; namespaces are not resolved.
    public var prefix: String?

    /// An element, for building a tree to serialize (tests, fuzz targets, the fake gateway).
    public init(
        name: String, attributes: [String: String] = [:], children: [XMLElement] = [], text: String = "",
        prefix: String? = nil
    ) {
        self.name = name
        self.attributes = attributes
        self.children = children
        self.text = text
        self.prefix = prefix
    }

    /// The name as written in the document: "s:Envelope".
    public var qualifiedName: String {
        prefix.map { "\($0):\(name)" } ?? name
    }

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
    /// The largest document, in bytes.
    public var maxBytes: Int
    /// The deepest nesting of elements.
    public var maxDepth: Int
    /// The most elements in one document.
    public var maxElements: Int
    /// The most character data in one element, in bytes.
    public var maxTextBytes: Int
    /// Attributes on one element (a SOAP envelope carries three or four).
    public var maxAttributes: Int
    /// Bytes in one element, attribute, entity or processing-instruction name.
    public var maxNameBytes: Int

    /// Limits of 1 MiB, depth 32, 20,000 elements and 256 KiB of text unless given.
    public init(
        maxBytes: Int = 1 << 20, maxDepth: Int = 32, maxElements: Int = 20_000, maxTextBytes: Int = 256 << 10,
        maxAttributes: Int = 64, maxNameBytes: Int = 256
    ) {
        self.maxBytes = maxBytes
        self.maxDepth = maxDepth
        self.maxElements = maxElements
        self.maxTextBytes = maxTextBytes
        self.maxAttributes = maxAttributes
        self.maxNameBytes = maxNameBytes
    }

    /// The limits for everything a gateway sends.
    public static let gateway = XMLLimits()
}

/// Parses untrusted XML into an ``XMLElement`` tree with our own bounded parser.
///
/// UTF-8 only (ISO-8859-1 when declared, transcoded first), checked strictly before parsing;
/// the subset UPnP needs (see `XMLScanner`); document type declarations refused outright, so
/// no entity can be declared or expand; size, depth, element count, attribute count, name
/// length and text length capped while parsing. Any byte sequence gives a tree or a
/// ``ProtocolViolation``, never a trap. The README's design section says why not FoundationXML.
public enum XMLTree {
    /// - Throws: ``ProtocolViolation`` naming what was wrong and where (line, or byte offset).
    public static func parse(_ bytes: some Collection<UInt8>, limits: XMLLimits = .gateway) throws -> XMLElement {
        let count = bytes.count
        guard count <= limits.maxBytes else {
            throw ProtocolViolation("XML document is \(count) bytes, over the \(limits.maxBytes)-byte limit")
        }
        var scanner = XMLScanner(try XMLInput.decode([UInt8](bytes)), limits: limits)
        return try scanner.document()
    }

    /// "s:Envelope" -> "Envelope".
    static func localName(_ qualified: String) -> String {
        guard let colon = qualified.lastIndex(of: ":") else { return qualified }
        return String(qualified[qualified.index(after: colon)...])
    }

    /// "s:Envelope" -> "s"; "Envelope" -> nil.
    static func prefix(_ qualified: String) -> String? {
        guard let colon = qualified.lastIndex(of: ":") else { return nil }
        return String(qualified[..<colon])
    }
}
