/// SOAP 1.1 envelopes for UPnP control (UDA 1.1 §3.2). Pure: values in, bytes out, and back.
public struct SOAPRequest: Sendable, Equatable {
    /// The service type, exactly as advertised (it goes into SOAPAction and the body's namespace).
    public var serviceType: String
    /// The action's name.
    public var action: String
    /// In the order the service description defines them.
    public var arguments: [Argument]

    /// One input argument.
    public struct Argument: Sendable, Equatable {
        /// Its name ("NewExternalPort").
        public var name: String
        /// Its value as text; escaped when the envelope is written.
        public var value: String
        /// The argument `name` = `value`.
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// A request for `action` on a service of `serviceType`.
    public init(serviceType: String, action: String, arguments: [Argument]) {
        self.serviceType = serviceType
        self.action = action
        self.arguments = arguments
    }

    /// The SOAPACTION header's value, quoted as UDA requires.
    public var soapActionHeader: String { "\"\(serviceType)#\(action)\"" }

    /// The UTF-8 envelope, every value escaped.
    /// - Throws: ``ProtocolViolation`` when a value holds a character XML 1.0 cannot carry.
    public func envelope() throws -> [UInt8] {
        var body = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n"
        body += "<s:Envelope xmlns:s=\"\(UPnP.soapEnvelopeNamespace)\" s:encodingStyle=\"\(UPnP.soapEncodingStyle)\">"
        body += "<s:Body><u:\(action) xmlns:u=\"\(XMLEscaping.escape(serviceType))\">"
        for argument in arguments {
            guard XMLEscaping.isRepresentable(argument.value) else {
                throw ProtocolViolation("\(argument.name) contains a control character that XML cannot carry")
            }
            body += "<\(argument.name)>\(XMLEscaping.escape(argument.value))</\(argument.name)>"
        }
        body += "</u:\(action)></s:Body></s:Envelope>\r\n"
        return Array(body.utf8)
    }
}

/// Escaping for XML character data and attribute values.
public enum XMLEscaping {
    /// `text` with `&`, `<`, `>`, `"` and `'` as entities, safe in character data and attribute values.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\r": out += "&#13;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// XML 1.0 §2.2: tab, LF, CR and everything from U+0020 on, less U+FFFE and U+FFFF.
    public static func isRepresentable(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { scalar in
            switch scalar.value {
            case 0x9, 0xA, 0xD: return true
            case 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: return true
            default: return false
            }
        }
    }
}

/// The output arguments of a successful action, by name.
public struct SOAPResponse: Sendable, Equatable {
    /// The action it answers.
    public let action: String
    /// The output arguments by name, as text.
    public let values: [String: String]

    /// Decodes a control response.
    ///
    /// HTTP 200 with an `<actionResponse>` succeeds; a `<Fault>` throws ``UPnPError`` whatever
    /// the status (some routers send faults with 200); any other status without a readable
    /// fault throws ``UnexpectedHTTPStatus``; a 200 without the response element throws
    /// ``ProtocolViolation``.
    public static func decode(action: String, status: Int, body: [UInt8]) throws -> SOAPResponse {
        let document: XMLElement
        do {
            // A GetListOfPortMappings page carries its listing as text: allow text up to the
            // whole (already capped) body.
            document = try XMLTree.parse(body, limits: XMLLimits(maxTextBytes: XMLLimits.gateway.maxBytes))
        } catch {
            if status != 200 { throw UnexpectedHTTPStatus(status: status, action: action) }
            throw ProtocolViolation("\(action) response: \(error)")
        }
        let soapBody = document.name == "Envelope" ? document.child("Body") : nil
        if let fault = soapBody?.child("Fault") ?? (document.name == "Fault" ? document : nil) {
            guard let upnpError = fault.descendants("UPnPError").first,
                  let codeText = upnpError.childText("errorCode"), let code = Int(codeText)
            else {
                if status != 200 { throw UnexpectedHTTPStatus(status: status, action: action) }
                throw ProtocolViolation("\(action) answered a SOAP fault without a UPnP error code")
            }
            throw UPnPError(code: code, deviceDescription: upnpError.childText("errorDescription"))
        }
        guard status == 200 else { throw UnexpectedHTTPStatus(status: status, action: action) }
        guard let soapBody else { throw ProtocolViolation("\(action) response is not a SOAP envelope") }
        guard let response = soapBody.child(action + "Response") else {
            throw ProtocolViolation("\(action) response has no <\(action)Response> element")
        }
        var values: [String: String] = [:]
        for child in response.children where values[child.name] == nil {
            values[child.name] = child.text
        }
        return SOAPResponse(action: action, values: values)
    }

    /// The value of an output argument.
    /// - Throws: ``ProtocolViolation`` when it is missing.
    public func string(_ name: String) throws -> String {
        guard let value = values[name] else { throw ProtocolViolation("\(action) response lacks \(name)") }
        return value
    }

    /// The output argument `name` as an integer of type `T`.
    /// - Throws: ``ProtocolViolation`` when it is missing or not such an integer.
    public func integer<T: FixedWidthInteger>(_ name: String, as type: T.Type = T.self) throws -> T {
        let text = try string(name)
        guard let value = T(text) else { throw ProtocolViolation("\(action) response's \(name) '\(text.prefix(40))' is not a valid \(T.self)") }
        return value
    }

    /// The output argument `name` as a port (1...65535).
    /// - Throws: ``ProtocolViolation`` when it is missing, not a number or 0.
    public func port(_ name: String) throws -> UInt16 {
        let value: UInt16 = try integer(name)
        guard value > 0 else { throw ProtocolViolation("\(action) response's \(name) is 0") }
        return value
    }

    /// The output argument `name` as a boolean (1/0, true/false, yes/no).
    /// - Throws: ``ProtocolViolation`` when it is missing or none of those.
    public func boolean(_ name: String) throws -> Bool {
        switch try string(name).lowercased() {
        case "1", "true", "yes": return true
        case "0", "false", "no": return false
        case let other: throw ProtocolViolation("\(action) response's \(name) '\(other.prefix(40))' is not a boolean")
        }
    }

    /// The output argument `name` as TCP or UDP, in any case.
    /// - Throws: ``ProtocolViolation`` when it is missing or neither.
    public func transportProtocol(_ name: String) throws -> TransportProtocol {
        let text = try string(name)
        guard let value = TransportProtocol(caseInsensitive: text) else {
            throw ProtocolViolation("\(action) response's \(name) '\(text.prefix(40))' is neither TCP nor UDP")
        }
        return value
    }
}
