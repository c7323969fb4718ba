import Testing
@testable import IGDProtocol

@Suite("SSDP")
struct SSDPTests {
    /// The NTT ADSL Modem-SV3's reply to M-SEARCH as shown in the blog post, mixed-case header names and all.
    static let nttReply = "HTTP/1.1 200 OK\r\nExt: \r\nDate: WED, 22 JAN 2070 04:40:41 GMT\r\nST: upnp:rootdevice\r\nUSN: uuid:53563300-0101-0000-000ba233dcd7::upnp:rootdevice\r\nLocation: http://192.168.1.1:2869/DeviceDescription.xml\r\nCache-Control: max-age=600\r\nServer: VxWorks/5.4.2 UPnP/1.0 UPnP-Device-Host/1.0\r\nContent-Length: 0\r\n\r\n"

    static let miniupnpdReply = "HTTP/1.1 200 OK\r\ncache-control: max-age=120\r\nst: urn:schemas-upnp-org:device:InternetGatewayDevice:2\r\nusn: uuid:221a4d65-f3ae-4e19-bef3-3612cb8daf34::urn:schemas-upnp-org:device:InternetGatewayDevice:2\r\next:\r\nserver: Debian/12 UPnP/1.1 MiniUPnPd/2.3.1\r\nlocation: http://192.168.77.1:5000/rootDesc.xml\r\nopt: \"http://schemas.upnp.org/upnp/1/0/\"; ns=01\r\n01-nls: 1700000000\r\nbootid.upnp.org: 1700000000\r\nconfigid.upnp.org: 1337\r\n\r\n"

    // MARK: M-SEARCH

    @Test func searchRequestIsExactlyTheUDAMessage() {
        let bytes = SSDP.searchRequest(searchTarget: "urn:schemas-upnp-org:device:InternetGatewayDevice:1", mx: 2)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text == "M-SEARCH * HTTP/1.1\r\n"
            + "HOST: 239.255.255.250:1900\r\n"
            + "MAN: \"ssdp:discover\"\r\n"
            + "MX: 2\r\n"
            + "ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"
            + "USER-AGENT: Linux/1 UPnP/1.1 portkeeper/0.1\r\n"
            + "\r\n")
    }

    @Test func searchRequestParsesBackWithQuotedMAN() throws {
        let bytes = SSDP.searchRequest(searchTarget: "upnp:rootdevice", mx: 3)
        let message = try SSDP.parse(bytes)
        #expect(message.startLine == "M-SEARCH * HTTP/1.1")
        #expect(message["MAN"] == "\"ssdp:discover\"")
        #expect(message["st"] == "upnp:rootdevice")
        #expect(message["Host"] == "239.255.255.250:1900")
        #expect(message["mx"] == "3")
    }

    @Test func searchRequestUsesGivenHostAndPort() {
        let text = String(decoding: SSDP.searchRequest(searchTarget: "ssdp:all", mx: 1, host: "192.168.77.1", port: 1901), as: UTF8.self)
        #expect(text.contains("\r\nHOST: 192.168.77.1:1901\r\n"))
        #expect(text.contains("\r\nST: ssdp:all\r\n"))
    }

    @Test("MX is clamped to 1...5", arguments: [(-3, "1"), (0, "1"), (1, "1"), (3, "3"), (5, "5"), (6, "5"), (120, "5")])
    func mxIsClamped(mx: Int, sent: String) throws {
        let message = try SSDP.parse(SSDP.searchRequest(searchTarget: "upnp:rootdevice", mx: mx))
        #expect(message["MX"] == sent)
    }

    @Test func searchTargetsCoverBothIGDVersionsAndEveryWANService() {
        #expect(UPnP.searchTargets == [
            "urn:schemas-upnp-org:device:InternetGatewayDevice:2",
            "urn:schemas-upnp-org:device:InternetGatewayDevice:1",
            "urn:schemas-upnp-org:service:WANIPConnection:2",
            "urn:schemas-upnp-org:service:WANIPConnection:1",
            "urn:schemas-upnp-org:service:WANPPPConnection:1",
        ])
    }

    @Test func anEchoedMSearchIsNotAResponse() throws {
        let echo = SSDP.searchRequest(searchTarget: "urn:schemas-upnp-org:device:InternetGatewayDevice:1", mx: 2)
        #expect(try SSDP.parseSearchResponse(echo) == nil)
        #expect(try SSDP.parseNotify(echo) == nil)
    }

    // MARK: search responses

    @Test func nttReplyFromTheBlogPost() throws {
        let response = try #require(try SSDP.parseSearchResponse(Array(Self.nttReply.utf8)))
        #expect(response.searchTarget == "upnp:rootdevice")
        #expect(response.usn == "uuid:53563300-0101-0000-000ba233dcd7::upnp:rootdevice")
        #expect(response.udn == "uuid:53563300-0101-0000-000ba233dcd7")
        #expect(response.location == "http://192.168.1.1:2869/DeviceDescription.xml")
        #expect(response.server == "VxWorks/5.4.2 UPnP/1.0 UPnP-Device-Host/1.0")
        #expect(response.bootID == nil)
    }

    @Test func nttReplyHeadersAreReachableInAnyCase() throws {
        let message = try SSDP.parse(Array(Self.nttReply.utf8))
        #expect(message.startLine == "HTTP/1.1 200 OK")
        #expect(message.headers["ext"] == "")
        #expect(message["EXT"] == "")
        #expect(message["cache-control"] == "max-age=600")
        #expect(message["DATE"] == "WED, 22 JAN 2070 04:40:41 GMT")
        #expect(message["content-length"] == "0")
        // Names are stored lower-cased.
        #expect(message.headers["Location"] == nil)
        #expect(message.headers["location"] == "http://192.168.1.1:2869/DeviceDescription.xml")
    }

    @Test func miniupnpdLowerCaseReplyWithBootID() throws {
        let response = try #require(try SSDP.parseSearchResponse(Array(Self.miniupnpdReply.utf8)))
        #expect(response.searchTarget == "urn:schemas-upnp-org:device:InternetGatewayDevice:2")
        #expect(response.udn == "uuid:221a4d65-f3ae-4e19-bef3-3612cb8daf34")
        #expect(response.location == "http://192.168.77.1:5000/rootDesc.xml")
        #expect(response.server == "Debian/12 UPnP/1.1 MiniUPnPd/2.3.1")
        #expect(response.bootID == 1_700_000_000)
    }

    @Test func upperCaseBootIDHeader() throws {
        let text = "HTTP/1.1 200 OK\r\nST: upnp:rootdevice\r\nUSN: uuid:abc::upnp:rootdevice\r\nLOCATION: http://10.0.0.1/d.xml\r\nBOOTID.UPNP.ORG: 42\r\n\r\n"
        let response = try #require(try SSDP.parseSearchResponse(Array(text.utf8)))
        #expect(response.bootID == 42)
        #expect(response.server == nil)
    }

    @Test func nonNumericBootIDIsIgnored() throws {
        let text = "HTTP/1.1 200 OK\r\nST: upnp:rootdevice\r\nUSN: uuid:abc\r\nLOCATION: http://10.0.0.1/d.xml\r\nBOOTID.UPNP.ORG: soon\r\n\r\n"
        let response = try #require(try SSDP.parseSearchResponse(Array(text.utf8)))
        #expect(response.bootID == nil)
        #expect(response.udn == "uuid:abc")
    }

    @Test func lfOnlyLineEndings() throws {
        let text = Self.nttReply.replacingOccurrences(of: "\r\n", with: "\n")
        #expect(!text.contains("\r"))
        let response = try #require(try SSDP.parseSearchResponse(Array(text.utf8)))
        #expect(response.udn == "uuid:53563300-0101-0000-000ba233dcd7")
        #expect(response.location == "http://192.168.1.1:2869/DeviceDescription.xml")
        #expect(response.server == "VxWorks/5.4.2 UPnP/1.0 UPnP-Device-Host/1.0")
    }

    @Test func whitespaceAroundNamesAndValuesIsTrimmed() throws {
        let text = "HTTP/1.1 200 OK\r\nST:\tupnp:rootdevice  \r\nUSN :uuid:x::upnp:rootdevice\r\nLocation:   http://10.0.0.1:80/d.xml\t\r\n\r\n"
        let response = try #require(try SSDP.parseSearchResponse(Array(text.utf8)))
        #expect(response.searchTarget == "upnp:rootdevice")
        #expect(response.usn == "uuid:x::upnp:rootdevice")
        #expect(response.location == "http://10.0.0.1:80/d.xml")
    }

    @Test("A stray CR before the end of a header line is not part of the value")
    func strayCarriageReturnIsNotPartOfAValue() throws {
        // Found by the ssdp-notify fuzz target: the value kept its CR, and re-encoded it lost it.
        let text = "NOTIFY * HTTP/1.1\r\nNT: upnp:rootdevice\r \r\nNTS: ssdp:byebye\r\nUSN: uuid:x::upnp:rootdevice\r\t\r\n\r\n"
        let notify = try #require(try SSDP.parseNotify(Array(text.utf8)))
        #expect(notify.notificationType == "upnp:rootdevice")
        #expect(notify.usn == "uuid:x::upnp:rootdevice")
    }

    @Test("A value that begins with a combining mark reads back the same once re-encoded")
    func valueBeginningWithACombiningMarkReadsBackTheSame() throws {
        // Found by the ssdp-search fuzz target: " \u{064C}" is one Character (a space and the
        // mark), so trimming by Character kept the space the second time round.
        let first = try SSDP.parse(Array("HTTP/1.1 200 OK\r\nUSN:\r\u{064C}\r\n\r\n".utf8))
        #expect(first["usn"] == "\u{064C}")
        let again = try SSDP.parse(Array("HTTP/1.1 200 OK\r\nUSN: \(try #require(first["usn"]))\r\n\r\n".utf8))
        #expect(again["usn"] == "\u{064C}")
        #expect(again["usn"]?.unicodeScalars.count == 1)
    }

    @Test func firstOfARepeatedHeaderWins() throws {
        let text = "HTTP/1.1 200 OK\r\nST: upnp:rootdevice\r\nUSN: uuid:x\r\nLOCATION: http://10.0.0.1/first.xml\r\nLocation: http://10.0.0.2/second.xml\r\n\r\n"
        let response = try #require(try SSDP.parseSearchResponse(Array(text.utf8)))
        #expect(response.location == "http://10.0.0.1/first.xml")
    }

    @Test func headersAfterTheBlankLineAreNotHeaders() throws {
        let text = "HTTP/1.1 200 OK\r\nST: upnp:rootdevice\r\nUSN: uuid:x\r\n\r\nLOCATION: http://10.0.0.1/d.xml\r\n"
        #expect(throws: ProtocolViolation.self) { try SSDP.parseSearchResponse(Array(text.utf8)) }
    }

    @Test("A 200 response without ST, USN or LOCATION is refused", arguments: ["ST", "USN", "LOCATION"])
    func responseLackingARequiredHeader(missing: String) throws {
        var lines = ["ST: upnp:rootdevice", "USN: uuid:x::upnp:rootdevice", "LOCATION: http://10.0.0.1/d.xml"]
        lines.removeAll { $0.hasPrefix(missing + ":") }
        let text = "HTTP/1.1 200 OK\r\n" + lines.joined(separator: "\r\n") + "\r\n\r\n"
        let error = #expect(throws: ProtocolViolation.self) { try SSDP.parseSearchResponse(Array(text.utf8)) }
        #expect(error?.description.contains("LOCATION") == true)
    }

    @Test("Datagrams that are not 200 responses give nil", arguments: [
        "HTTP/1.1 404 Not Found\r\nST: upnp:rootdevice\r\nUSN: uuid:x\r\nLOCATION: http://10.0.0.1/d.xml\r\n\r\n",
        "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nNT: upnp:rootdevice\r\nNTS: ssdp:alive\r\nUSN: uuid:x::upnp:rootdevice\r\nLOCATION: http://10.0.0.1/d.xml\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: 10.0.0.1\r\n\r\n",
        "HTTP/1.1\r\n\r\n",
    ])
    func notASearchResponse(text: String) throws {
        #expect(try SSDP.parseSearchResponse(Array(text.utf8)) == nil)
    }

    // MARK: malformed datagrams

    @Test func oversizedDatagramIsRefused() {
        let padding = String(repeating: "x", count: SSDP.maxDatagramBytes)
        let text = Self.nttReply.replacingOccurrences(of: "Content-Length: 0\r\n", with: "X-Padding: \(padding)\r\n")
        #expect(text.utf8.count > SSDP.maxDatagramBytes)
        let error = #expect(throws: ProtocolViolation.self) { try SSDP.parseSearchResponse(Array(text.utf8)) }
        #expect(error?.description.contains("8192") == true)
    }

    @Test func datagramOfExactlyTheLimitIsAccepted() throws {
        let head = "HTTP/1.1 200 OK\r\nST: upnp:rootdevice\r\nUSN: uuid:x\r\nLOCATION: http://10.0.0.1/d.xml\r\nX-Padding: "
        let tail = "\r\n\r\n"
        let padding = String(repeating: "x", count: SSDP.maxDatagramBytes - head.utf8.count - tail.utf8.count)
        let bytes = Array((head + padding + tail).utf8)
        #expect(bytes.count == SSDP.maxDatagramBytes)
        #expect(try SSDP.parseSearchResponse(bytes)?.location == "http://10.0.0.1/d.xml")
        #expect(throws: ProtocolViolation.self) { try SSDP.parseSearchResponse(bytes + [0x20]) }
    }

    @Test func emptyDatagramIsRefused() {
        #expect(throws: ProtocolViolation.self) { try SSDP.parse([UInt8]()) }
        #expect(throws: ProtocolViolation.self) { try SSDP.parseSearchResponse(Array("\r\nST: x\r\n\r\n".utf8)) }
    }

    @Test func invalidUTF8IsRefused() {
        let bytes = Array("HTTP/1.1 200 OK\r\nST: ".utf8) + [0xFF, 0xFE, 0xC0] + Array("\r\n\r\n".utf8)
        let error = #expect(throws: ProtocolViolation.self) { try SSDP.parse(bytes) }
        #expect(error?.description.contains("UTF-8") == true)
    }

    @Test func tooManyHeadersAreRefused() throws {
        let required = "ST: upnp:rootdevice\r\nUSN: uuid:x\r\nLOCATION: http://10.0.0.1/d.xml\r\n"
        let fits = (0..<(SSDP.maxHeaders - 3)).map { "X-H\($0): v\r\n" }.joined()
        #expect(try SSDP.parseSearchResponse(Array(("HTTP/1.1 200 OK\r\n" + required + fits + "\r\n").utf8)) != nil)
        let tooMany = (0..<(SSDP.maxHeaders - 2)).map { "X-H\($0): v\r\n" }.joined()
        #expect(throws: ProtocolViolation.self) {
            try SSDP.parseSearchResponse(Array(("HTTP/1.1 200 OK\r\n" + required + tooMany + "\r\n").utf8))
        }
    }

    @Test func linesWithoutAColonAreSkipped() throws {
        let text = "HTTP/1.1 200 OK\r\ngarbage line\r\n: no name\r\nST: upnp:rootdevice\r\nUSN: uuid:x\r\nLOCATION: http://10.0.0.1/d.xml\r\n\r\n"
        let message = try SSDP.parse(Array(text.utf8))
        #expect(message.headers.count == 3)
        #expect(try SSDP.parseSearchResponse(Array(text.utf8))?.searchTarget == "upnp:rootdevice")
    }

    // MARK: NOTIFY

    @Test func notifyAlive() throws {
        let text = "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nCACHE-CONTROL: max-age=120\r\nLOCATION: http://192.168.77.1:5000/rootDesc.xml\r\nSERVER: Debian/12 UPnP/1.1 MiniUPnPd/2.3.1\r\nNT: urn:schemas-upnp-org:service:WANIPConnection:2\r\nUSN: uuid:221a4d65-f3ae-4e19-bef3-3612cb8daf36::urn:schemas-upnp-org:service:WANIPConnection:2\r\nNTS: ssdp:alive\r\nBOOTID.UPNP.ORG: 7\r\nCONFIGID.UPNP.ORG: 1337\r\n\r\n"
        let notify = try #require(try SSDP.parseNotify(Array(text.utf8)))
        #expect(notify.kind == .alive)
        #expect(notify.notificationType == "urn:schemas-upnp-org:service:WANIPConnection:2")
        #expect(notify.udn == "uuid:221a4d65-f3ae-4e19-bef3-3612cb8daf36")
        #expect(notify.location == "http://192.168.77.1:5000/rootDesc.xml")
        #expect(notify.bootID == 7)
        #expect(try SSDP.parseSearchResponse(Array(text.utf8)) == nil)
    }

    @Test func notifyByebyeHasNoLocation() throws {
        let text = "NOTIFY * HTTP/1.1\nHOST: 239.255.255.250:1900\nNT: upnp:rootdevice\nNTS: ssdp:byebye\nUSN: uuid:53563300-0101-0000-000ba233dcd7::upnp:rootdevice\n\n"
        let notify = try #require(try SSDP.parseNotify(Array(text.utf8)))
        #expect(notify.kind == .byebye)
        #expect(notify.location == nil)
        #expect(notify.bootID == nil)
        #expect(notify.udn == "uuid:53563300-0101-0000-000ba233dcd7")
    }

    @Test("NTS values in any case", arguments: [("SSDP:ALIVE", SSDP.Notify.Kind.alive), ("ssdp:ByeBye", .byebye), ("ssdp:update", .update)])
    func notifyKinds(nts: String, kind: SSDP.Notify.Kind) throws {
        let text = "notify * HTTP/1.1\r\nNT: upnp:rootdevice\r\nNTS: \(nts)\r\nUSN: uuid:x::upnp:rootdevice\r\n\r\n"
        #expect(try SSDP.parseNotify(Array(text.utf8))?.kind == kind)
    }

    @Test("A NOTIFY without NT, NTS or USN, or with an unknown NTS, is refused", arguments: [
        "NOTIFY * HTTP/1.1\r\nNTS: ssdp:alive\r\nUSN: uuid:x\r\n\r\n",
        "NOTIFY * HTTP/1.1\r\nNT: upnp:rootdevice\r\nUSN: uuid:x\r\n\r\n",
        "NOTIFY * HTTP/1.1\r\nNT: upnp:rootdevice\r\nNTS: ssdp:alive\r\n\r\n",
        "NOTIFY * HTTP/1.1\r\nNT: upnp:rootdevice\r\nNTS: ssdp:dead\r\nUSN: uuid:x\r\n\r\n",
    ])
    func malformedNotify(text: String) {
        #expect(throws: ProtocolViolation.self) { try SSDP.parseNotify(Array(text.utf8)) }
    }

    @Test func aSearchResponseIsNotANotify() throws {
        #expect(try SSDP.parseNotify(Array(Self.nttReply.utf8)) == nil)
    }

    @Test("UDN is the USN before '::'", arguments: [
        ("uuid:53563300-0101-0000-000ba233dcd7::upnp:rootdevice", "uuid:53563300-0101-0000-000ba233dcd7"),
        ("uuid:abc::urn:schemas-upnp-org:device:InternetGatewayDevice:1", "uuid:abc"),
        ("uuid:abc", "uuid:abc"),
    ])
    func udnFromUSN(usn: String, udn: String) {
        #expect(SSDP.udn(fromUSN: usn) == udn)
    }
}
