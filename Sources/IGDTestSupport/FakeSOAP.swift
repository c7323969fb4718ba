/// SOAP responses and UPnP faults as a UPnP device sends them.
public enum FakeSOAP {
    /// The Content-Type of SOAP replies.
    public static let contentType = "text/xml; charset=\"utf-8\""

    private static let envelopeOpen =
        "<?xml version=\"1.0\"?>\r\n"
        + "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
        + "s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body>"
    private static let envelopeClose = "</s:Body></s:Envelope>\r\n"

    /// The body of a successful `action` response: each argument XML-escaped, in order.
    public static func responseBody(action: String, serviceType: String, arguments: [(String, String)]) -> String {
        var xml = envelopeOpen
        xml += "<u:\(action)Response xmlns:u=\"\(XMLEscaping.escape(serviceType))\">"
        for (name, value) in arguments {
            xml += "<\(name)>\(XMLEscaping.escape(value))</\(name)>"
        }
        xml += "</u:\(action)Response>" + envelopeClose
        return xml
    }

    /// An HTTP 200 reply carrying a successful `action` response.
    public static func response(action: String, serviceType: String, arguments: [(String, String)] = []) -> FakeHTTPReply {
        .text(200, responseBody(action: action, serviceType: serviceType, arguments: arguments), contentType: contentType)
    }

    /// The body of a UPnP fault with `code` and `description` (by default the code's standard name).
    public static func faultBody(code: Int, description: String? = nil) -> String {
        envelopeOpen
            + "<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring>"
            + "<detail><UPnPError xmlns=\"urn:schemas-upnp-org:control-1-0\">"
            + "<errorCode>\(code)</errorCode>"
            + "<errorDescription>\(XMLEscaping.escape(description ?? UPnPErrorName.of(code)))</errorDescription>"
            + "</UPnPError></detail></s:Fault>"
            + envelopeClose
    }

    /// An HTTP 500 reply carrying a UPnP fault.
    public static func fault(code: Int, description: String? = nil) -> FakeHTTPReply {
        .text(500, faultBody(code: code, description: description), contentType: contentType)
    }
}

/// The standard names of UPnP control error codes (UDA and the IGD WAN*Connection services).
public enum UPnPErrorName {
    /// The name for `code`, e.g. "ConflictInMappingEntry" for 718; "UPnPError" when unknown.
    public static func of(_ code: Int) -> String {
        switch code {
        case 401: "Invalid Action"
        case 402: "Invalid Args"
        case 501: "Action Failed"
        case 600: "Argument Value Invalid"
        case 601: "Argument Value Out of Range"
        case 602: "Optional Action Not Implemented"
        case 606: "Action not authorized"
        case 703: "InactiveConnectionStateRequired"
        case 704: "ConnectionSetupFailed"
        case 706: "ConnectionNotConfigured"
        case 710: "InvalidConnectionType"
        case 713: "SpecifiedArrayIndexInvalid"
        case 714: "NoSuchEntryInArray"
        case 715: "WildCardNotPermittedInSrcIP"
        case 716: "WildCardNotPermittedInExtPort"
        case 718: "ConflictInMappingEntry"
        case 724: "SamePortValuesRequired"
        case 725: "OnlyPermanentLeasesSupported"
        case 726: "RemoteHostOnlySupportsWildcard"
        case 727: "ExternalPortOnlySupportsWildcard"
        case 728: "NoPortMapsAvailable"
        case 729: "ConflictWithOtherMechanisms"
        case 730: "PortMappingNotFound"
        case 731: "ReadOnly"
        case 732: "WildCardNotPermittedInIntPort"
        case 733: "InconsistentParameters"
        default: "UPnPError"
        }
    }
}
