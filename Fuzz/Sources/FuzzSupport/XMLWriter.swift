import IGDProtocol

/// Writes the leaf elements the description, SOAP and action re-encoders build documents from.
/// Whole trees are written by the library's own ``XMLElement/serialized()``.
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

    /// `<name>escaped text</name>`.
    public static func leaf(_ name: String, _ value: String) -> String {
        "<\(name)>\(text(value))</\(name)>"
    }
}
