import IGDProtocol

/// Writes an ``XMLElement`` tree back as XML text, for the round-trip checks.
///
/// Kept in the fuzz package (test code) until the library has its own serializer.
public enum XMLWriter {
    /// Character data: the markup characters escaped, and CR as a reference (a literal CR
    /// would be normalised to LF by any conforming parser).
    public static func text(_ value: String) -> String {
        var out = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\r": out += "&#13;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// An attribute value for double quotes: also the quote, and tab, LF and CR as references
    /// (attribute-value normalisation would turn the literal ones into spaces).
    public static func attribute(_ value: String) -> String {
        var out = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\t": out += "&#9;"
            case "\n": out += "&#10;"
            case "\r": out += "&#13;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// `<name attributes>text children</name>`; the element's text comes before its children,
    /// which the tree keeps apart anyway.
    public static func element(_ element: XMLElement) -> String {
        var out = "<\(element.name)"
        for (name, value) in element.attributes.sorted(by: { $0.key < $1.key }) {
            out += " \(name)=\"\(attribute(value))\""
        }
        out += ">" + text(element.text)
        for child in element.children { out += Self.element(child) }
        return out + "</\(element.name)>"
    }

    /// A whole document with its XML declaration, as UTF-8.
    public static func document(_ root: XMLElement) -> [UInt8] {
        Array(("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n" + element(root)).utf8)
    }

    /// `<name>escaped text</name>`.
    public static func leaf(_ name: String, _ value: String) -> String {
        "<\(name)>\(text(value))</\(name)>"
    }
}
