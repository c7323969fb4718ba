extension XMLElement {
    /// The element written back as XML (no declaration), for tests and fuzz targets.
    ///
    /// Names are written as qualified names, attributes sorted by name, and text before the
    /// children (the tree keeps an element's text as one string). `&`, `<`, `>` and `"` are
    /// escaped, and so are CR in text and tab, LF and CR in attribute values, which a parser
    /// would otherwise normalize. For every tree ``XMLTree/parse(_:limits:)`` returns,
    /// parsing the result gives an equal tree. A tree built by hand with names that are not
    /// XML names, or characters XML does not allow, gives text no parser accepts.
    public func serialized() -> String {
        var out: [UInt8] = []
        write(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private func write(to out: inout [UInt8]) {
        out.append(UInt8(ascii: "<"))
        out.append(contentsOf: qualifiedName.utf8)
        for (key, value) in attributes.sorted(by: { $0.key < $1.key }) {
            out.append(UInt8(ascii: " "))
            out.append(contentsOf: key.utf8)
            out.append(contentsOf: "=\"".utf8)
            Self.escape(value, attribute: true, to: &out)
            out.append(UInt8(ascii: "\""))
        }
        if text.isEmpty, children.isEmpty {
            out.append(contentsOf: "/>".utf8)
            return
        }
        out.append(UInt8(ascii: ">"))
        Self.escape(text, attribute: false, to: &out)
        for child in children {
            child.write(to: &out)
        }
        out.append(contentsOf: "</".utf8)
        out.append(contentsOf: qualifiedName.utf8)
        out.append(UInt8(ascii: ">"))
    }

    private static func escape(_ string: String, attribute: Bool, to out: inout [UInt8]) {
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "&"): out.append(contentsOf: "&amp;".utf8)
            case UInt8(ascii: "<"): out.append(contentsOf: "&lt;".utf8)
            case UInt8(ascii: ">"): out.append(contentsOf: "&gt;".utf8)
            case UInt8(ascii: "\"") where attribute: out.append(contentsOf: "&quot;".utf8)
            case 0x0D: out.append(contentsOf: "&#13;".utf8)
            case 0x09 where attribute: out.append(contentsOf: "&#9;".utf8)
            case 0x0A where attribute: out.append(contentsOf: "&#10;".utf8)
            default: out.append(byte)
            }
        }
    }
}
