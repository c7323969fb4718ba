import Testing
@testable import IGDProtocol

/// One action's expected request, for the table below.
struct ActionRequestCase: Sendable, CustomTestStringConvertible {
    let request: SOAPRequest
    let action: String
    let typeName: String
    let arguments: [(String, String)]
    var testDescription: String { action }

    init<A: IGDAction>(_ value: A, serviceType: String = WANServiceType.ip2, _ action: String, _ arguments: [(String, String)]) {
        request = value.request(serviceType: serviceType)
        self.action = action
        typeName = A.name
        self.arguments = arguments
    }
}

@Suite("SOAP")
struct SOAPTests {
    static let entry = PortMappingEntry(
        externalPort: 8080, protocol: .tcp, internalPort: 80, internalClient: "192.168.1.2",
        enabled: true, description: "Webサーバ (HTTP)", leaseDuration: 3600
    )

    static let actionCases: [ActionRequestCase] = [
        ActionRequestCase(Actions.GetExternalIPAddress(), "GetExternalIPAddress", []),
        ActionRequestCase(Actions.GetStatusInfo(), "GetStatusInfo", []),
        ActionRequestCase(Actions.GetConnectionTypeInfo(), serviceType: WANServiceType.ppp1, "GetConnectionTypeInfo", []),
        ActionRequestCase(Actions.GetGenericPortMappingEntry(index: 7), serviceType: WANServiceType.ppp1, "GetGenericPortMappingEntry", [("NewPortMappingIndex", "7")]),
        ActionRequestCase(Actions.GetSpecificPortMappingEntry(externalPort: 8080, protocol: .udp), serviceType: WANServiceType.ip1, "GetSpecificPortMappingEntry", [
            ("NewRemoteHost", ""), ("NewExternalPort", "8080"), ("NewProtocol", "UDP"),
        ]),
        ActionRequestCase(Actions.GetListOfPortMappings(protocol: .tcp), "GetListOfPortMappings", [
            ("NewStartPort", "1"), ("NewEndPort", "65535"), ("NewProtocol", "TCP"), ("NewManage", "1"), ("NewNumberOfPorts", "1000"),
        ]),
        ActionRequestCase(Actions.GetListOfPortMappings(startPort: 1000, endPort: 2000, protocol: .udp, manage: false, numberOfPorts: 5), "GetListOfPortMappings", [
            ("NewStartPort", "1000"), ("NewEndPort", "2000"), ("NewProtocol", "UDP"), ("NewManage", "0"), ("NewNumberOfPorts", "5"),
        ]),
        ActionRequestCase(Actions.AddPortMapping(entry), serviceType: WANServiceType.ppp1, "AddPortMapping", [
            ("NewRemoteHost", ""), ("NewExternalPort", "8080"), ("NewProtocol", "TCP"), ("NewInternalPort", "80"),
            ("NewInternalClient", "192.168.1.2"), ("NewEnabled", "1"), ("NewPortMappingDescription", "Webサーバ (HTTP)"),
            ("NewLeaseDuration", "3600"),
        ]),
        ActionRequestCase(Actions.AddAnyPortMapping(PortMappingEntry(
            remoteHost: "203.0.113.9", externalPort: 9090, protocol: .udp, internalPort: 9091, internalClient: "192.168.77.2",
            enabled: false, description: "A&B <x>", leaseDuration: 0
        )), "AddAnyPortMapping", [
            ("NewRemoteHost", "203.0.113.9"), ("NewExternalPort", "9090"), ("NewProtocol", "UDP"), ("NewInternalPort", "9091"),
            ("NewInternalClient", "192.168.77.2"), ("NewEnabled", "0"), ("NewPortMappingDescription", "A&B <x>"),
            ("NewLeaseDuration", "0"),
        ]),
        ActionRequestCase(Actions.DeletePortMapping(remoteHost: "", externalPort: 8080, protocol: .tcp), serviceType: WANServiceType.ip1, "DeletePortMapping", [
            ("NewRemoteHost", ""), ("NewExternalPort", "8080"), ("NewProtocol", "TCP"),
        ]),
        ActionRequestCase(Actions.DeletePortMappingRange(startPort: 5000, endPort: 5010, protocol: .udp), "DeletePortMappingRange", [
            ("NewStartPort", "5000"), ("NewEndPort", "5010"), ("NewProtocol", "UDP"), ("NewManage", "0"),
        ]),
    ]

    // MARK: requests

    @Test("Every action's request: SOAPACTION, argument order, envelope", arguments: actionCases)
    func actionRequest(_ item: ActionRequestCase) throws {
        let request = item.request
        #expect(item.typeName == item.action)
        #expect(request.action == item.action)
        #expect(request.soapActionHeader == "\"\(request.serviceType)#\(item.action)\"")
        #expect(request.arguments.map(\.name) == item.arguments.map(\.0))
        #expect(request.arguments.map(\.value) == item.arguments.map(\.1))

        let bytes = try request.envelope()
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body><u:\(item.action) xmlns:u=\"\(request.serviceType)\">"))
        #expect(text.hasSuffix("</u:\(item.action)></s:Body></s:Envelope>\r\n"))

        let envelope = try XMLTree.parse(bytes)
        #expect(envelope.name == "Envelope")
        #expect(envelope.attributes["s:encodingStyle"] == UPnP.soapEncodingStyle)
        let call = try #require(envelope.child("Body")?.child(item.action))
        #expect(call.attributes["xmlns:u"] == request.serviceType)
        #expect(call.children.map(\.name) == item.arguments.map(\.0))
        #expect(call.children.map(\.text) == item.arguments.map(\.1))
    }

    @Test func version2OnlyActions() {
        #expect(Actions.GetListOfPortMappings.requiresVersion2)
        #expect(Actions.AddAnyPortMapping.requiresVersion2)
        #expect(Actions.DeletePortMappingRange.requiresVersion2)
        #expect(!Actions.GetExternalIPAddress.requiresVersion2)
        #expect(!Actions.GetStatusInfo.requiresVersion2)
        #expect(!Actions.GetConnectionTypeInfo.requiresVersion2)
        #expect(!Actions.GetGenericPortMappingEntry.requiresVersion2)
        #expect(!Actions.GetSpecificPortMappingEntry.requiresVersion2)
        #expect(!Actions.AddPortMapping.requiresVersion2)
        #expect(!Actions.DeletePortMapping.requiresVersion2)
    }

    @Test func soapActionHeaderIsQuoted() {
        let request = SOAPRequest(serviceType: WANServiceType.ppp1, action: "AddPortMapping", arguments: [])
        #expect(request.soapActionHeader == "\"urn:schemas-upnp-org:service:WANPPPConnection:1#AddPortMapping\"")
    }

    @Test func valuesAreEscapedInTheEnvelope() throws {
        let request = SOAPRequest(serviceType: WANServiceType.ip1, action: "AddPortMapping", arguments: [
            .init("NewPortMappingDescription", "a<b & \"c\" 'd' >"),
        ])
        let text = String(decoding: try request.envelope(), as: UTF8.self)
        #expect(text.contains("<NewPortMappingDescription>a&lt;b &amp; &quot;c&quot; &apos;d&apos; &gt;</NewPortMappingDescription>"))
        #expect(!text.contains("a<b"))
    }

    @Test func serviceTypeIsEscapedInItsAttribute() throws {
        let request = SOAPRequest(serviceType: "urn:x\"><evil/>", action: "GetStatusInfo", arguments: [])
        let envelope = try XMLTree.parse(try request.envelope())
        let call = try #require(envelope.child("Body")?.child("GetStatusInfo"))
        #expect(call.attributes["xmlns:u"] == "urn:x\"><evil/>")
        #expect(call.children.isEmpty)
    }

    @Test("Descriptions round-trip exactly through AddPortMapping", arguments: [
        "Webサーバ (HTTP)", "a<b & \"c\"", "A&B <x>", "it's", "]]> and <![CDATA[", "&amp; already escaped", "tab\there",
        "two\nlines", "carriage\rreturn", "crlf\r\ninside", "emoji 🛰️ and 𝄞", "\u{7F} delete", "&#1;",
    ])
    func descriptionRoundTrip(description: String) throws {
        var entry = Self.entry
        entry.description = description
        let request = Actions.AddPortMapping(entry).request(serviceType: WANServiceType.ip1)
        let envelope = try XMLTree.parse(try request.envelope())
        let call = try #require(envelope.child("Body")?.child("AddPortMapping"))
        #expect(call.childText("NewPortMappingDescription") == description)
    }

    @Test("Values XML cannot carry are refused by envelope()", arguments: [
        "\u{01}", "bad\u{01}value", "\u{00}", "\u{08}", "\u{0B}", "\u{0C}", "\u{1F}", "\u{FFFE}", "\u{FFFF}",
    ])
    func controlCharactersRefused(value: String) {
        var entry = Self.entry
        entry.description = value
        let request = Actions.AddPortMapping(entry).request(serviceType: WANServiceType.ip1)
        let error = #expect(throws: ProtocolViolation.self) { try request.envelope() }
        #expect(error?.description.contains("NewPortMappingDescription") == true)
    }

    @Test("isRepresentable follows XML 1.0 §2.2", arguments: [
        ("\t\n\r", true), (" ", true), ("\u{D7FF}", true), ("\u{E000}", true), ("\u{FFFD}", true), ("\u{10000}", true),
        ("\u{10FFFF}", true), ("", true), ("\u{1F}", false), ("\u{FFFE}", false), ("\u{FFFF}", false), ("\u{00}", false),
    ])
    func representable(text: String, ok: Bool) {
        #expect(XMLEscaping.isRepresentable(text) == ok)
    }

    @Test func escapeTable() {
        #expect(XMLEscaping.escape("&<>\"'\r\n\t") == "&amp;&lt;&gt;&quot;&apos;&#13;\n\t")
        #expect(XMLEscaping.escape("Webサーバ") == "Webサーバ")
    }

    // MARK: decoding

    @Test func successfulResponseValues() throws {
        let body = Envelope.response(action: "GetExternalIPAddress", arguments: [("NewExternalIPAddress", "11.77.0.1")])
        let response = try SOAPResponse.decode(action: "GetExternalIPAddress", status: 200, body: body)
        #expect(response.action == "GetExternalIPAddress")
        #expect(response.values == ["NewExternalIPAddress": "11.77.0.1"])
        #expect(try response.string("NewExternalIPAddress") == "11.77.0.1")
    }

    @Test func escapedValuesInAResponseAreDecoded() throws {
        let body = Envelope.response(action: "GetSpecificPortMappingEntry", arguments: [
            ("NewPortMappingDescription", "Webサーバ (HTTP)"), ("NewA", "a&lt;b &amp; &quot;c&quot;"), ("NewB", "A&amp;B &lt;x&gt;"),
            ("NewC", "&#x30B5;&#12540;&#x30D0;"),
        ])
        let response = try SOAPResponse.decode(action: "GetSpecificPortMappingEntry", status: 200, body: body)
        #expect(response.values["NewPortMappingDescription"] == "Webサーバ (HTTP)")
        #expect(response.values["NewA"] == "a<b & \"c\"")
        #expect(response.values["NewB"] == "A&B <x>")
        #expect(response.values["NewC"] == "サーバ")
    }

    @Test func emptyResponseHasNoValues() throws {
        let response = try SOAPResponse.decode(action: "AddPortMapping", status: 200, body: Envelope.response(action: "AddPortMapping", arguments: []))
        #expect(response.values.isEmpty)
        let error = #expect(throws: ProtocolViolation.self) { try response.string("NewReservedPort") }
        #expect(error?.description.contains("NewReservedPort") == true)
    }

    @Test func firstOfARepeatedOutputArgumentWins() throws {
        let body = Envelope.response(action: "GetStatusInfo", arguments: [("NewConnectionStatus", "Connected"), ("NewConnectionStatus", "Disconnected")])
        #expect(try SOAPResponse.decode(action: "GetStatusInfo", status: 200, body: body).values["NewConnectionStatus"] == "Connected")
    }

    @Test func anyPrefixAndWhitespaceAreAccepted() throws {
        let body = try FixtureLoader.bytes(Fixture.nttGenericEntryResponse)
        let response = try SOAPResponse.decode(action: "GetGenericPortMappingEntry", status: 200, body: body)
        #expect(response.values.count == 8)
        #expect(response.values["NewPortMappingDescription"] == "Webサーバ (HTTP)")
    }

    @Test func upnpFaultWithHTTP500() throws {
        let body = try FixtureLoader.bytes(Fixture.fault718)
        let error = #expect(throws: UPnPError.self) { try SOAPResponse.decode(action: "AddPortMapping", status: 500, body: body) }
        #expect(error == UPnPError(code: 718, deviceDescription: "ConflictInMappingEntry"))
        #expect(error?.name == "ConflictInMappingEntry")
    }

    @Test func upnpFaultWithHTTP200IsNeverSuccess() throws {
        let body = try FixtureLoader.bytes(Fixture.fault718)
        let error = #expect(throws: UPnPError.self) { try SOAPResponse.decode(action: "AddPortMapping", status: 200, body: body) }
        #expect(error?.code == 718)
    }

    @Test func faultAlongsideAResponseIsStillAFault() throws {
        let body = "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><u:AddPortMappingResponse xmlns:u=\"urn:x\"/><s:Fault><detail><UPnPError><errorCode>725</errorCode></UPnPError></detail></s:Fault></s:Body></s:Envelope>"
        let error = #expect(throws: UPnPError.self) { try SOAPResponse.decode(action: "AddPortMapping", status: 200, body: Array(body.utf8)) }
        #expect(error?.code == 725)
        #expect(error?.deviceDescription == nil)
    }

    @Test func bareFaultRootIsAFault() throws {
        let body = "<Fault><detail><UPnPError><errorCode>401</errorCode><errorDescription>Invalid Action</errorDescription></UPnPError></detail></Fault>"
        let error = #expect(throws: UPnPError.self) { try SOAPResponse.decode(action: "GetStatusInfo", status: 500, body: Array(body.utf8)) }
        #expect(error == UPnPError(code: 401, deviceDescription: "Invalid Action"))
    }

    @Test("Non-200 without a readable UPnP fault throws UnexpectedHTTPStatus", arguments: [
        (500, ""), (500, "Internal Server Error"), (500, "<html><body>500</body></html"), (401, "<html><body>Unauthorized</body></html>"),
        (500, "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><s:Fault><faultcode>s:Server</faultcode></s:Fault></s:Body></s:Envelope>"),
        (500, "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><s:Fault><detail><UPnPError><errorCode>x</errorCode></UPnPError></detail></s:Fault></s:Body></s:Envelope>"),
        (404, "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><u:GetStatusInfoResponse xmlns:u=\"urn:x\"/></s:Body></s:Envelope>"),
        (500, "<!DOCTYPE x [<!ENTITY a \"b\">]><x>&a;</x>"),
    ])
    func unexpectedStatus(status: Int, body: String) {
        let error = #expect(throws: UnexpectedHTTPStatus.self) {
            try SOAPResponse.decode(action: "GetStatusInfo", status: status, body: Array(body.utf8))
        }
        #expect(error == UnexpectedHTTPStatus(status: status, action: "GetStatusInfo"))
    }

    @Test("HTTP 200 that is not the action's response throws ProtocolViolation", arguments: [
        "",
        "not xml",
        "<html><body>OK</body></html>",
        "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body/></s:Envelope>",
        "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><u:GetExternalIPAddressResponse xmlns:u=\"urn:x\"/></s:Body></s:Envelope>",
        "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><u:GetStatusInfoResponse xmlns:u=\"urn:x\"/></s:Envelope>",
        "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><s:Fault><faultcode>s:Client</faultcode></s:Fault></s:Body></s:Envelope>",
        "<!DOCTYPE x [<!ENTITY a \"b\">]><x>&a;</x>",
    ])
    func okWithoutResponse(body: String) {
        #expect(throws: ProtocolViolation.self) {
            try SOAPResponse.decode(action: "GetStatusInfo", status: 200, body: Array(body.utf8))
        }
    }

    @Test func missingResponseElementIsNamed() {
        let body = Envelope.response(action: "GetExternalIPAddress", arguments: [])
        let error = #expect(throws: ProtocolViolation.self) { try SOAPResponse.decode(action: "GetStatusInfo", status: 200, body: body) }
        #expect(error?.description.contains("<GetStatusInfoResponse>") == true)
    }

    @Test func unexpectedStatusDescription() {
        #expect(UnexpectedHTTPStatus(status: 500, action: "AddPortMapping").description == "AddPortMapping answered HTTP 500 without a UPnP fault")
    }

    // MARK: typed accessors

    func response(_ values: [String: String]) -> SOAPResponse {
        SOAPResponse(action: "Test", values: values)
    }

    @Test("port() accepts 1...65535 only", arguments: [("1", UInt16?(1)), ("65535", 65535), ("80", 80), ("0", nil), ("65536", nil), ("70000", nil), ("-1", nil), ("abc", nil), ("", nil), ("8 0", nil)])
    func port(text: String, value: UInt16?) throws {
        let r = response(["P": text])
        if let value {
            #expect(try r.port("P") == value)
        } else {
            #expect(throws: ProtocolViolation.self) { try r.port("P") }
        }
    }

    @Test("boolean() accepts 1/0, true/false, yes/no in any case", arguments: [
        ("1", Bool?(true)), ("0", false), ("true", true), ("FALSE", false), ("Yes", true), ("no", false), ("2", nil), ("", nil), ("on", nil),
    ])
    func boolean(text: String, value: Bool?) throws {
        let r = response(["B": text])
        if let value {
            #expect(try r.boolean("B") == value)
        } else {
            #expect(throws: ProtocolViolation.self) { try r.boolean("B") }
        }
    }

    @Test("transportProtocol() accepts TCP and UDP in any case", arguments: [
        ("TCP", TransportProtocol?.some(.tcp)), ("udp", .udp), ("Tcp", .tcp), ("SCTP", nil), ("", nil), ("TCP ", nil),
    ])
    func transport(text: String, value: TransportProtocol?) throws {
        let r = response(["T": text])
        if let value {
            #expect(try r.transportProtocol("T") == value)
        } else {
            #expect(throws: ProtocolViolation.self) { try r.transportProtocol("T") }
        }
    }

    @Test func integerChecksTheType() throws {
        let r = response(["N": "4294967295", "M": "4294967296", "X": "12x"])
        #expect(try r.integer("N", as: UInt32.self) == UInt32.max)
        #expect(throws: ProtocolViolation.self) { try r.integer("M", as: UInt32.self) }
        #expect(throws: ProtocolViolation.self) { try r.integer("X", as: Int.self) }
        #expect(throws: ProtocolViolation.self) { try r.integer("Missing", as: Int.self) }
    }
}
