import IGDProtocol

/// Writes the leaf elements the description, SOAP and action re-encoders build documents from.
/// Whole trees are written by the library's own ``XMLElement/serialized()``.
public enum XMLWriter {
    /// `<name>escaped text</name>`.
    public static func leaf(_ name: String, _ value: String) -> String {
        "<\(name)>\(XMLEscaping.escape(value))</\(name)>"
    }
}
