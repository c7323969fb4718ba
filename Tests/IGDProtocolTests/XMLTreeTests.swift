import Foundation
import Testing
@testable import IGDProtocol

@Suite("XMLTree")
struct XMLTreeTests {
    func parse(_ text: String, limits: XMLLimits = .gateway) throws -> XMLElement {
        try XMLTree.parse(Array(text.utf8), limits: limits)
    }

    func violation(_ text: String, limits: XMLLimits = .gateway) -> ProtocolViolation? {
        #expect(throws: ProtocolViolation.self) { try XMLTree.parse(Array(text.utf8), limits: limits) }
    }

    /// `depth` nested elements, the innermost holding "x".
    func nested(_ depth: Int) -> String {
        (0..<depth).map { "<e\($0)>" }.joined() + "x" + (0..<depth).reversed().map { "</e\($0)>" }.joined()
    }

    // MARK: the tree

    @Test func localNamesAttributesChildrenAndTrimmedText() throws {
        let root = try parse("""
            <?xml version="1.0"?>
            <s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="enc">
              <s:Body>
                <u:Reply xmlns:u="urn:x">
                  <A>  one  </A>
                  <B kind="k">two</B>
                  <A>three</A>
                  <Empty/>
                </u:Reply>
              </s:Body>
            </s:Envelope>
            """)
        #expect(root.name == "Envelope")
        #expect(root.attributes["s:encodingStyle"] == "enc")
        #expect(root.attributes["xmlns:s"] == "http://schemas.xmlsoap.org/soap/envelope/")
        #expect(root.text == "")
        let reply = try #require(root.child("Body")?.child("Reply"))
        #expect(reply.children.map(\.name) == ["A", "B", "A", "Empty"])
        #expect(reply.childText("A") == "one")
        #expect(reply.child("B")?.attributes == ["kind": "k"])
        #expect(reply.childText("Empty") == "")
        #expect(reply.childText("Missing") == nil)
        #expect(root.child("Reply") == nil, "child() looks only one level down")
        #expect(root.descendants("A").map(\.text) == ["one", "three"])
        #expect(root.descendants("Reply").count == 1)
        #expect(root.descendants("Envelope").isEmpty, "descendants() excludes the element itself")
    }

    @Test func descendantsAreDepthFirstInDocumentOrder() throws {
        let root = try parse("<r><n>1<n>2</n></n><m><n>3</n></m><n>4</n></r>")
        #expect(root.descendants("n").map(\.text) == ["1", "2", "3", "4"])
    }

    @Test func predefinedAndNumericEntitiesAndCDATA() throws {
        let root = try parse("""
            <r><a>a&lt;b &amp; &quot;c&quot; &apos;d&apos; &gt;</a><b>&#x30B5;&#12540;&#x30D0;</b><c><![CDATA[A&B <x>]]></c></r>
            """)
        #expect(root.childText("a") == "a<b & \"c\" 'd' >")
        #expect(root.childText("b") == "サーバ")
        #expect(root.childText("c") == "A&B <x>")
    }

    @Test func utf8TextIsKept() throws {
        let root = try parse("<r><d>Webサーバ (HTTP)</d></r>")
        #expect(root.childText("d") == "Webサーバ (HTTP)")
    }

    @Test func mixedContentKeepsOnlyTheElementsOwnText() throws {
        let root = try parse("<r> before <child>inner</child> after </r>")
        #expect(root.text == "before  after")
        #expect(root.childText("child") == "inner")
    }

    @Test("Malformed documents are refused", arguments: [
        "", "   ", "just text", "<r>", "<r><a></r>", "<r></a>", "<r attr=unquoted/>", "<r>&undefined;</r>",
        "<r>&amp</r>", "<1r/>",
    ])
    func malformed(text: String) {
        let error = violation(text)
        #expect(error != nil)
    }

    @Test("Comments, processing instructions and whitespace after the root element are legal", arguments: [
        "<r/><!-- c -->", "<r/>\n\n", "<r/><?pi x?>",
    ])
    func legalEpilogue(text: String) throws {
        #expect(try parse(text).name == "r")
    }

    /// XML 1.0 §2.1: a document has exactly one root element.
    @Test("Content after the root element is refused", arguments: [
        "<r/><second/>", "<r/>trailing", "<r/><", "<r></r></r>",
        "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body/></s:Envelope><s:Envelope/>",
    ])
    func contentAfterTheRootIsRefused(text: String) {
        #expect(throws: ProtocolViolation.self) { try parse(text) }
    }

    // MARK: declarations are refused

    @Test func billionLaughsIsRefusedFast() throws {
        let bytes = try FixtureLoader.bytes(Fixture.billionLaughs)
        let clock = ContinuousClock()
        let start = clock.now
        let error = #expect(throws: ProtocolViolation.self) { try XMLTree.parse(bytes) }
        let elapsed = clock.now - start
        #expect(error?.description.contains("DOCTYPE") == true)
        #expect(elapsed < .seconds(10), "took \(elapsed)")
    }

    @Test("Documents declaring a DOCTYPE or ENTITY are refused", arguments: [
        Fixture.billionLaughs, Fixture.doctypeLowercase, Fixture.externalEntity, Fixture.entityWithoutDoctype,
    ])
    func declarationFixturesRefused(path: String) throws {
        let bytes = try FixtureLoader.bytes(path)
        let error = #expect(throws: ProtocolViolation.self) { try XMLTree.parse(bytes) }
        #expect(error?.description.contains("DOCTYPE or ENTITY") == true)
        #expect(throws: ProtocolViolation.self) { try DeviceDescription.parse(bytes) }
    }

    @Test("Declarations in any case are refused", arguments: [
        "<!DOCTYPE r><r/>", "<!doctype r><r/>", "<!DocType r><r/>", "<r><!ENTITY x \"y\"></r>", "<r><!entity x \"y\"></r>",
        "<!DOCTYPE", "<!ENTITY",
    ])
    func declarationsAnyCase(text: String) {
        #expect(violation(text)?.description.contains("DOCTYPE or ENTITY") == true)
    }

    @Test("Look-alikes are not declarations", arguments: ["<r/>", "<!-- a comment --><r/>", "<r><![CDATA[x]]></r>", "<!-- <!DOCTYPE r> --><r/>"])
    func notDeclarations(text: String) throws {
        #expect(try parse(text).name == "r")
    }

    @Test("Malformed look-alikes are refused as malformed", arguments: ["<!DOCTYP", "<!", "DOCTYPE <r/>"])
    func malformedLookAlikes(text: String) {
        let error = violation(text)
        #expect(error != nil)
        #expect(error?.description.contains("DOCTYPE or ENTITY") == false)
    }

    /// A UTF-16 document spells "<!DOCTYPE" with NUL bytes in between; it is refused as UTF-16
    /// before anything looks for declarations.
    @Test func utf16BillionLaughsIsRefusedFast() throws {
        let text = try FixtureLoader.string(Fixture.billionLaughs)
            .replacingOccurrences(of: "<?xml version=\"1.0\"?>", with: "<?xml version=\"1.0\" encoding=\"UTF-16\"?>")
        let bytes: [UInt8] = [0xFF, 0xFE] + text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        let clock = ContinuousClock()
        let start = clock.now
        #expect(throws: ProtocolViolation.self) { try XMLTree.parse(bytes) }
        #expect(clock.now - start < .seconds(10))
    }

    /// XMLTree promises that document type declarations are refused outright, in any encoding:
    /// a UTF-16 document carrying a DOCTYPE (with entities, default attributes or an external
    /// subset) is refused too.
    @Test("UTF-16 documents declaring a DOCTYPE are refused", arguments: [
        "<!DOCTYPE r><r>x</r>",
        "<!DOCTYPE r [<!ENTITY a \"b\">]><r>&a;</r>",
        "<!DOCTYPE r [<!ATTLIST r injected CDATA \"yes\">]><r>x</r>",
        "<!DOCTYPE r SYSTEM \"file:///etc/hostname\"><r>x</r>",
    ])
    func utf16DoctypeIsRefused(body: String) {
        let text = "<?xml version=\"1.0\" encoding=\"UTF-16\"?>" + body
        let littleEndian: [UInt8] = [0xFF, 0xFE] + text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        let bigEndian: [UInt8] = [0xFE, 0xFF] + text.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        #expect(throws: ProtocolViolation.self) { try XMLTree.parse(littleEndian) }
        #expect(throws: ProtocolViolation.self) { try XMLTree.parse(bigEndian) }
    }

    /// UDA 1.1 requires UTF-8, so UTF-16 is refused outright, and so is any other declared encoding.
    @Test func utf16DocumentsAreRefusedEvenWithoutDeclarations() throws {
        let text = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><r><a>サーバ</a></r>"
        let bytes: [UInt8] = [0xFF, 0xFE] + text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        #expect(throws: ProtocolViolation.self) { try XMLTree.parse(bytes) }
        let declaredOnly = Array("<?xml version=\"1.0\" encoding=\"UTF-7\"?><r>+ADw-</r>".utf8)
        #expect(throws: ProtocolViolation.self) { try XMLTree.parse(declaredOnly) }
        #expect(try XMLTree.parse(Array("<?xml version=\"1.0\" encoding='utf-8'?><r><a>サーバ</a></r>".utf8)).childText("a") == "サーバ")
    }

    @Test func undeclaredNamespacePrefixesAreTolerated() throws {
        // Seen on routers: the s: prefix used without its declaration.
        let body = "<s:Envelope><s:Body><u:GetStatusInfoResponse><NewConnectionStatus>Connected</NewConnectionStatus></u:GetStatusInfoResponse></s:Body></s:Envelope>"
        let document = try XMLTree.parse(Array(body.utf8))
        #expect(document.child("Body")?.child("GetStatusInfoResponse")?.childText("NewConnectionStatus") == "Connected")
    }

    // MARK: limits

    @Test func depthLimitIsInclusive() throws {
        #expect(XMLLimits.gateway.maxDepth == 32)
        let deepest = try parse(nested(32))
        #expect(deepest.name == "e0")
        let error = violation(nested(33))
        #expect(error?.description.contains("deeper than 32") == true)
    }

    @Test func deepNestingFixtureIsRefused() throws {
        let bytes = try FixtureLoader.bytes(Fixture.deepNesting40)
        let error = #expect(throws: ProtocolViolation.self) { try XMLTree.parse(bytes) }
        #expect(error?.description.contains("deeper") == true)
    }

    @Test func customDepthLimit() throws {
        let limits = XMLLimits(maxDepth: 3)
        #expect(try parse("<a><b><c/></b></a>", limits: limits).descendants("c").count == 1)
        #expect(violation("<a><b><c><d/></c></b></a>", limits: limits)?.description.contains("deeper than 3") == true)
    }

    @Test func overSizeDocumentIsRefusedBeforeParsing() throws {
        let limit = XMLLimits.gateway.maxBytes
        #expect(limit == 1 << 20)
        let open = "<r><!--", close = "--></r>"
        let exact = open + String(repeating: "x", count: limit - open.utf8.count - close.utf8.count) + close
        #expect(exact.utf8.count == limit)
        #expect(try parse(exact).name == "r")
        let over = open + String(repeating: "x", count: limit + 1 - open.utf8.count - close.utf8.count) + close
        let error = violation(over)
        #expect(error?.description.contains("over the \(limit)-byte limit") == true)
        // The size check comes first: even a declaration in an oversized document is reported as size.
        let bomb = "<!DOCTYPE r>" + over
        #expect(violation(bomb)?.description.contains("byte limit") == true)
    }

    @Test func elementCountLimit() throws {
        #expect(XMLLimits.gateway.maxElements == 20_000)
        // The root counts: root + 19,999 children is exactly the limit.
        let atLimit = "<r>" + String(repeating: "<a/>", count: 19_999) + "</r>"
        #expect(try parse(atLimit).children.count == 19_999)
        let overLimit = "<r>" + String(repeating: "<a/>", count: 20_000) + "</r>"
        #expect(violation(overLimit)?.description.contains("more than 20000 elements") == true)
    }

    @Test func textLimitCountsAllCharacterData() throws {
        let limits = XMLLimits(maxTextBytes: 10)
        #expect(try parse("<r><a>01234</a><b>56789</b></r>", limits: limits).childText("b") == "56789")
        #expect(violation("<r><a>01234</a><b>56789x</b></r>", limits: limits)?.description.contains("bytes of text") == true)
        // Bytes, not characters: three katakana are nine bytes.
        #expect(try parse("<r>サーバ</r>", limits: limits).text == "サーバ")
        #expect(violation("<r>サーバサ</r>", limits: limits) != nil)
    }

    @Test func gatewayTextLimit() throws {
        let limit = XMLLimits.gateway.maxTextBytes
        #expect(limit == 256 << 10)
        #expect(try parse("<r>" + String(repeating: "t", count: limit) + "</r>").text.utf8.count == limit)
        #expect(violation("<r>" + String(repeating: "t", count: limit + 1) + "</r>") != nil)
    }

    @Test("localName drops the prefix", arguments: [("s:Envelope", "Envelope"), ("Envelope", "Envelope"), ("a:b:c", "c"), ("p:", "")])
    func localName(qualified: String, local: String) {
        #expect(XMLTree.localName(qualified) == local)
    }
}
