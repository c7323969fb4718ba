import IGDProtocol

/// Writes SOAP control answers, for the round-trip checks.
public enum SOAPWriter {
    static let envelopeOpen = "<?xml version=\"1.0\"?>\n<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
        + "s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body>"
    static let envelopeClose = "</s:Body></s:Envelope>\n"

    /// A successful answer to `action` carrying `values` as output arguments.
    public static func response(action: String, values: [(name: String, value: String)]) -> [UInt8] {
        var text = envelopeOpen + "<u:\(action)Response xmlns:u=\"urn:schemas-upnp-org:service:WANIPConnection:1\">"
        for (name, value) in values { text += XMLWriter.leaf(name, value) }
        text += "</u:\(action)Response>" + envelopeClose
        return Array(text.utf8)
    }

    /// A UPnP fault.
    public static func fault(_ error: UPnPError) -> [UInt8] {
        var text = envelopeOpen + "<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail>"
        text += "<UPnPError xmlns=\"urn:schemas-upnp-org:control-1-0\"><errorCode>\(error.code)</errorCode>"
        if let description = error.deviceDescription { text += XMLWriter.leaf("errorDescription", description) }
        text += "</UPnPError></detail></s:Fault>" + envelopeClose
        return Array(text.utf8)
    }
}
