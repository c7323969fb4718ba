import Foundation
import Testing
@testable import IGDProtocol

/// The bounded parser behind ``XMLTree``: what FoundationXML trapped on, and the parts of
/// XML 1.0 it implements, byte by byte.
@Suite("XML parser")
struct XMLParserTests {
    func parse(_ bytes: [UInt8], limits: XMLLimits = .gateway) throws -> XMLElement {
        try XMLTree.parse(bytes, limits: limits)
    }

    func parse(_ text: String, limits: XMLLimits = .gateway) throws -> XMLElement {
        try XMLTree.parse(Array(text.utf8), limits: limits)
    }

    func violation(_ bytes: [UInt8], limits: XMLLimits = .gateway) -> ProtocolViolation? {
        #expect(throws: ProtocolViolation.self) { try XMLTree.parse(bytes, limits: limits) }
    }

    func violation(_ text: String, limits: XMLLimits = .gateway) -> ProtocolViolation? {
        violation(Array(text.utf8), limits: limits)
    }

    // MARK: bytes that are not UTF-8 (FoundationXML trapped with SIGILL on these)

    /// Where a bad byte goes: the document before and after it.
    struct Place: Sendable, CustomTestStringConvertible {
        let name: String
        let before: String
        let after: String
        var testDescription: String { name }
    }

    struct BadBytes: Sendable, CustomTestStringConvertible {
        let name: String
        let bytes: [UInt8]
        var testDescription: String { name }
    }

    static let places: [Place] = [
        Place(name: "element name", before: "<a", after: "/>"),
        Place(name: "element name after the root's", before: "<r><a", after: "/></r>"),
        Place(name: "end tag", before: "<a></a", after: ">"),
        Place(name: "attribute name", before: "<a b", after: "=\"1\"/>"),
        Place(name: "attribute value", before: "<a b=\"", after: "\"/>"),
        Place(name: "comment before the root", before: "<!--", after: "--><a/>"),
        Place(name: "comment in content", before: "<a><!--", after: "--></a>"),
        Place(name: "processing instruction target", before: "<?p", after: "?><a/>"),
        Place(name: "processing instruction data", before: "<a><?p ", after: "?></a>"),
        Place(name: "entity reference", before: "<a>&a", after: ";</a>"),
        Place(name: "text", before: "<a>", after: "</a>"),
        Place(name: "CDATA section", before: "<a><![CDATA[", after: "]]></a>"),
        Place(name: "after the root", before: "<a/>", after: ""),
        Place(name: "XML declaration", before: "<?xml version=\"1.0\" encoding=\"", after: "\"?><a/>"),
    ]

    static let badBytes: [BadBytes] = [
        BadBytes(name: "0xFF", bytes: [0xFF]),
        BadBytes(name: "lone continuation 0x80", bytes: [0x80]),
        BadBytes(name: "truncated three-byte sequence", bytes: [0xE3, 0x82]),
        BadBytes(name: "overlong '/'", bytes: [0xC0, 0xAF]),
        BadBytes(name: "encoded surrogate", bytes: [0xED, 0xA0, 0x80]),
        BadBytes(name: "beyond U+10FFFF", bytes: [0xF4, 0x90, 0x80, 0x80]),
    ]

    @Test("A byte that is not UTF-8 is refused wherever it is", arguments: places, badBytes)
    func notUTF8IsRefused(place: Place, bad: BadBytes) {
        let bytes = Array(place.before.utf8) + bad.bytes + Array(place.after.utf8)
        let error = violation(bytes)
        // The declaration is read as ASCII before decoding, and says so.
        let expected = place.name == "XML declaration" ? "XML declaration" : "UTF-8"
        #expect(error?.description.contains(expected) == true, "\(error?.description ?? "")")
    }

    @Test("The smallest reproductions of the FoundationXML traps are refused", arguments: [
        [0x3C, 0xFF, 0x2F, 0x3E],  // <\xFF/>: _NSXMLParserStartElementNs
        [0x3C, 0x61, 0xFF, 0x2F, 0x3E],  // <a\xFF/>
        [0x3C, 0x3F, 0x70, 0xFF, 0x3F, 0x3E, 0x3C, 0x61, 0x2F, 0x3E],  // <?p\xFF?><a/>: _NSXMLParserProcessingInstruction
        [0x3C, 0x61, 0x3E, 0x26, 0x61, 0xFF, 0x3B, 0x3C, 0x2F, 0x61, 0x3E],  // <a>&a\xFF;</a>: _NSXMLParserGetEntity
        [0x3C, 0x21, 0x2D, 0x2D, 0x80, 0x2D, 0x2D, 0x3E, 0x3C, 0x61, 0x2F, 0x3E],  // <!--\x80--><a/>
    ] as [[UInt8]])
    func crashReproductions(bytes: [UInt8]) {
        #expect(violation(bytes) != nil)
    }

    /// Well-formed, yet FoundationXML segfaulted on it: a processing instruction without data
    /// reached strlen(NULL) (`_NSXMLParserProcessingInstruction`).
    @Test("A processing instruction without data is skipped", arguments: ["<?p?><r/>", "<r><?p?></r>", "<r/><?p?>", "<r><?p ?></r>"])
    func processingInstructionWithoutData(text: String) throws {
        #expect(try parse(text).name == "r")
    }

    @Test("A name that is not a prefix and a local name is refused", arguments: [
        ("<r><deurn:schemas-upnp-org:service:WANIPConnection:2/></r>", "element name deurn:schemas-upnp-org:service:WANIPConn… has more than one colon"),
        ("<p:2/>", "element name p:2 is not a prefix and a local name"),
        ("<p:/>", "element name p: is not a prefix and a local name"),
        ("<:a/>", "element name :a is not a prefix and a local name"),
        ("<r a:b:c=\"1\"/>", "attribute name a:b:c has more than one colon"),
    ])
    func qualifiedNames(document: String, expected: String) {
        // Found by the soap-response fuzz target: the local part after the last colon, "2",
        // became an argument name that could not be written back as XML.
        #expect(violation(document)?.description.contains(expected) == true, "\(violation(document) as Any)")
    }

    @Test func prefixedNamesStillParse() throws {
        let root = try parse("<s:Envelope xmlns:s=\"u\" s:encodingStyle=\"e\"><s:Body/></s:Envelope>")
        #expect(root.name == "Envelope")
        #expect(root.prefix == "s")
    }

    @Test func aTruncatedSequenceAtTheEndIsRefused() {
        #expect(violation(Array("<a>".utf8) + [0xE3, 0x82])?.description.contains("truncated") == true)
        #expect(violation(Array("<a>".utf8) + [0xF0])?.description.contains("truncated") == true)
    }

    @Test func errorsNameTheLineAndOffset() {
        let error = violation(Array("<r>\n<a>\n".utf8) + [0xFF] + Array("</a></r>".utf8))
        #expect(error?.description == "XML document is not valid UTF-8 (byte 0xFF, line 3, offset 8)")
        #expect(violation("<r>\n\n<a></b></r>")?.description == "malformed XML (end tag </b> does not match <a>, line 3)")
    }

    @Test("Characters XML does not allow are refused, raw or as references", arguments: [
        "<r>\u{1}</r>", "<r>\u{FFFE}</r>", "<r>\u{FFFF}</r>", "<r a=\"\u{1B}\"/>", "<r>ab\u{0}</r>",
        "<r>&#0;</r>", "<r>&#x0;</r>", "<r>&#xD800;</r>", "<r>&#xDFFF;</r>", "<r>&#xFFFE;</r>", "<r>&#x110000;</r>",
        "<r>&#8;</r>", "<r>&#99999999999999999999999;</r>", "<r a=\"&#1;\"/>",
    ])
    func disallowedCharacters(text: String) {
        #expect(violation(text) != nil)
    }

    @Test func nonASCIINamesAreValidNames() throws {
        let root = try parse("<サーバ 属性=\"値\"><é·x>y</é·x></サーバ>")
        #expect(root.name == "サーバ")
        #expect(root.attributes == ["属性": "値"])
        #expect(root.childText("é·x") == "y")
    }

    // MARK: references, CDATA, comments, processing instructions

    @Test func characterReferences() throws {
        let root = try parse("<r a=\"&#65;&#x42;&#x1F600;\">&#9;x&#x1f600;&#10;y&#13;</r>")
        #expect(root.attributes["a"] == "AB😀")
        #expect(root.text == "x😀\ny")
    }

    @Test("Malformed and undeclared references are refused", arguments: [
        "<r>&#;</r>", "<r>&#x;</r>", "<r>&#X41;</r>", "<r>&#12a;</r>", "<r>&#65</r>", "<r>& amp;</r>", "<r>&;</r>",
        "<r>&nbsp;</r>", "<r>&AMP;</r>", "<r a=\"&foo;\"/>", "<r a=\"&\"/>", "<r>a & b</r>",
    ])
    func badReferences(text: String) {
        #expect(violation(text) != nil)
    }

    @Test func undeclaredEntitiesAreNamed() {
        #expect(violation("<r>&nbsp;</r>")?.description.contains("undeclared entity &nbsp;") == true)
    }

    @Test func cdataIsTextKeptAsWritten() throws {
        #expect(try parse("<r>a<![CDATA[ <b>&amp; ]]>c</r>").text == "a <b>&amp; c")
        #expect(try parse("<r><![CDATA[]]></r>").text == "")
        #expect(try parse("<r><![CDATA[]]]]><![CDATA[>]]></r>").text == "]]>")
    }

    @Test("Misplaced or unclosed CDATA is refused", arguments: [
        "<![CDATA[x]]><r/>", "<r/><![CDATA[x]]>", "<r><![CDATA[x</r>", "<r><![cdata[x]]></r>", "<r>a]]>b</r>",
    ])
    func badCDATA(text: String) {
        #expect(violation(text) != nil)
    }

    @Test func commentsAndProcessingInstructionsAreSkippedEverywhere() throws {
        let root = try parse("""
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <!-- before --><?xml-stylesheet href="a.xsl"?>
            <r>a<!-- <x> & --><?pi?>b<?pi data <x> & ?><!---->c</r>
            <!-- after --><?after?>
            """)
        #expect(root.text == "abc")
        #expect(root.children.isEmpty)
    }

    @Test("Malformed comments and processing instructions are refused", arguments: [
        "<r><!-- a -- b --></r>", "<r><!-- a ---></r>", "<r><!-- a </r>", "<r><!--></r>", "<r><!- a --></r>",
        "<r><?pi x</r>", "<r><??></r>", "<r><?1pi?></r>", "<r><?pi\u{A0}x?></r>",
        "<r><?xml version=\"1.0\"?></r>", "<r/><?XmL x?>", "<?xmlA?><r/>", "<r><?XML-stylesheet?></r>", " <?xml version=\"1.0\"?><r/>",
    ])
    func badCommentsAndPIs(text: String) {
        #expect(violation(text) != nil)
    }

    @Test("Malformed XML declarations are refused", arguments: [
        "<?xml encoding=\"UTF-8\"?><r/>", "<?xml version=\"2.0\"?><r/>", "<?xml version='1.0' standalone='maybe'?><r/>",
        "<?xml version=\"1.0\" version=\"1.0\"?><r/>", "<?xml version=\"1.0\"encoding=\"UTF-8\"?><r/>",
        "<?xml standalone=\"yes\" version=\"1.0\"?><r/>", "<?xml version=\"1.0\" encoding=\"UTF 8\"?><r/>",
        "<?xml version=\"1.0\"", "<?xml version=1.0?><r/>", "<?xml version=\"1.01\"?><r/>", "<?xml version=\"2.0\"?><r/>",
    ])
    func badDeclarations(text: String) {
        #expect(violation(text) != nil)
    }

    @Test("Legal XML declarations are accepted", arguments: [
        "<?xml version=\"1.0\"?><r/>", "<?xml version='1.0' encoding='utf-8'?><r/>", "<?xml version=\"1.0\" ?><r/>", "<?xml version=\"1.1\"?><r/>",
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n<r/>", "<?xml\tversion = \"1.0\"\n?><r/>",
        "<?xml version=\"1.0\" encoding=\"US-ASCII\"?><r/>",
    ])
    func goodDeclarations(text: String) throws {
        #expect(try parse(text).name == "r")
    }

    // MARK: well-formedness

    @Test("Mismatched, unclosed or stray tags are refused", arguments: [
        "<a><b></a></b>", "<a></A>", "<s:a></t:a>", "<s:a></a>", "<a></a", "<a></ a>", "</a>", "<a><b></b>", "<a>x",
        "<a", "<a/", "<a b='1'", "< a/>", "<a/ >", "<>",
    ])
    func badTags(text: String) {
        #expect(violation(text) != nil)
    }

    @Test func endTagsMatchByQualifiedName() throws {
        let root = try parse("<s:a><b></b ></s:a\n>")
        #expect(root.name == "a")
        #expect(root.prefix == "s")
        #expect(root.qualifiedName == "s:a")
        #expect(root.children.map(\.qualifiedName) == ["b"])
    }

    @Test("Names that are not XML names are refused", arguments: [
        "<-r/>", "<.r/>", "<1r/>", "<r 1a=\"x\"/>", "<r -a=\"x\"/>", "<r\u{3000}/>", "<·r/>",
    ])
    func badNames(text: String) {
        #expect(violation(text) != nil)
    }

    @Test func namesMayHoldDigitsHyphensDotsAndOneColon() throws {
        let root = try parse("<_r-1.x:y a.b-c_1=\"v\" p:z=\"w\"/>")
        #expect(root.name == "y")
        #expect(root.prefix == "_r-1.x")
        #expect(root.attributes == ["a.b-c_1": "v", "p:z": "w"])
    }

    @Test("Bad attributes are refused", arguments: [
        "<r a=\"1\" a=\"2\"/>", "<r a='1' a='1'/>", "<r a=\"1\"b=\"2\"/>", "<r a=\"<\"/>", "<r a=\"x/>", "<r a/>",
        "<r a=/>", "<r a=\"1'/>", "<r =\"1\"/>",
    ])
    func badAttributes(text: String) {
        #expect(violation(text) != nil)
    }

    @Test func duplicateAttributesAreNamed() {
        #expect(violation("<r a=\"1\" a=\"2\"/>")?.description.contains("attribute a repeated in <r>") == true)
    }

    @Test func attributeValues() throws {
        let root = try parse("<r a='say \"hi\"' b=\"it's\" c = \"x\ty\nz\" d=\"&#9;&#10;\" p:a=\"2\" e=\"&gt;&amp;\"/>")
        #expect(root.attributes == ["a": "say \"hi\"", "b": "it's", "c": "x y z", "d": "\t\n", "p:a": "2", "e": ">&"])
    }

    @Test func lineEndsAreNormalized() throws {
        let root = try parse(Array("<r a=\"x\r\ny\">\r\na\r\nb\rc\r\n</r>".utf8))
        #expect(root.text == "a\nb\nc")
        #expect(root.attributes["a"] == "x y")
    }

    @Test("Text outside the root element is refused", arguments: ["x<r/>", "&amp;<r/>", "\u{A0}<r/>", "<r/>\u{FEFF}"])
    func textOutsideTheRoot(text: String) {
        #expect(violation(text) != nil)
    }

    @Test("Text is trimmed exactly as Foundation trims whitespace and newlines", arguments: [
        "", " ", " a ", "\u{85}a\u{2028}", "\u{A0}\u{3000}x y\u{2029}", "\u{FEFF}x\u{FEFF}", " \u{301}x", "a\u{200B}",
        "\t\n\u{B}\u{C}\r x", "x\u{1680}", "サーバ", " \u{1F600} ",
    ])
    func trimmingMatchesFoundation(text: String) {
        #expect(XMLScanner.trimmed(Array(text.utf8)) == text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    // MARK: limits

    @Test func deepNestingIsRefusedAtTheCapNotByRecursion() {
        let deep = String(repeating: "<a>", count: 100_000) + String(repeating: "</a>", count: 100_000)
        #expect(violation(deep)?.description.contains("deeper than 32") == true)
        let unclosed = String(repeating: "<a>", count: 32)
        #expect(violation(unclosed)?.description.contains("document ends inside <a>") == true)
    }

    @Test func attributeCountIsCapped() throws {
        let attributes = (0..<64).map { " a\($0)=\"\($0)\"" }.joined()
        #expect(try parse("<r\(attributes)/>").attributes.count == 64)
        #expect(violation("<r\(attributes) z=\"\"/>")?.description.contains("more than 64 attributes") == true)
        #expect(violation("<r a=\"\" b=\"\"/>", limits: XMLLimits(maxAttributes: 1)) != nil)
    }

    @Test func nameLengthIsCapped() throws {
        let longest = String(repeating: "n", count: 256)
        #expect(try parse("<\(longest)/>").name == longest)
        #expect(violation("<\(longest)n/>")?.description.contains("longer than 256 bytes") == true)
        #expect(violation("<r \(longest)n=\"\"/>") != nil)
        #expect(violation("<r>&\(longest)n;</r>") != nil)
        #expect(violation("<?\(longest)n?><r/>") != nil)
    }

    @Test func cdataAndReferencesCountAsText() throws {
        let limits = XMLLimits(maxTextBytes: 5)
        #expect(try parse("<r><![CDATA[ab]]>&#x30B5;</r>", limits: limits).text == "abサ")
        #expect(violation("<r><![CDATA[ab]]>c&#x30B5;</r>", limits: limits)?.description.contains("bytes of text") == true)
    }

    @Test func largeDocumentsParseInOnePass() throws {
        // A megabyte of text, of references, of attributes and of siblings: linear-time paths.
        let limits = XMLLimits(maxBytes: 4 << 20, maxTextBytes: 4 << 20)
        let text = "<r>" + String(repeating: "x", count: 1 << 20) + "</r>"
        #expect(try parse(text, limits: limits).text.utf8.count == 1 << 20)
        let references = "<r>" + String(repeating: "&amp;", count: 200_000) + "</r>"
        #expect(try parse(references, limits: limits).text.utf8.count == 200_000)
        let wide = "<r>" + String(repeating: "<a b=\"1\" c=\"2\">t</a>", count: 19_999) + "</r>"
        #expect(try parse(wide, limits: limits).children.count == 19_999)
    }

    // MARK: encodings

    @Test func aUTF8ByteOrderMarkIsSkipped() throws {
        #expect(try parse([0xEF, 0xBB, 0xBF] + Array("<r>x</r>".utf8)).text == "x")
        #expect(try parse([0xEF, 0xBB, 0xBF] + Array("<?xml version=\"1.0\"?><r>x</r>".utf8)).text == "x")
        #expect(violation([0xEF, 0xBB, 0xBF, 0xEF, 0xBB, 0xBF] + Array("<r>x</r>".utf8)) != nil)
    }

    @Test func latin1IsTranscoded() throws {
        let declaration = Array("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>".utf8)
        let root = try parse(declaration + Array("<r a=\"".utf8) + [0xE9] + Array("\">caf".utf8) + [0xE9, 0x20, 0xFF, 0xA0] + Array("</r>".utf8))
        #expect(root.text == "café ÿ")
        #expect(root.attributes["a"] == "é")
        let latin1 = Array("<?xml version='1.0' encoding='latin1'?><r>".utf8) + [0xB5] + Array("</r>".utf8)
        #expect(try parse(latin1).text == "µ")
    }

    @Test func usASCIIMustBeASCII() throws {
        let declaration = "<?xml version=\"1.0\" encoding=\"us-ascii\"?>"
        #expect(try parse(declaration + "<r>plain</r>").text == "plain")
        #expect(violation(declaration + "<r>é</r>")?.description.contains("US-ASCII") == true)
    }

    @Test("Other declared encodings are refused", arguments: ["UTF-16", "utf-32", "Shift_JIS", "windows-1252", "EBCDIC"])
    func otherEncodings(name: String) {
        let error = violation("<?xml version=\"1.0\" encoding=\"\(name)\"?><r/>")
        #expect(error?.description == "XML document declares encoding '\(name.lowercased())', which is refused (UTF-8 expected)")
    }

    @Test func utf32IsRefusedAsSuch() {
        let utf32: [UInt8] = Array("<r/>".utf8).flatMap { [0, 0, 0, $0] }
        #expect(violation(utf32)?.description.contains("UTF-16 or UTF-32") == true)
        #expect(violation([0x00, 0x00, 0xFE, 0xFF] + utf32)?.description.contains("UTF-16 or UTF-32") == true)
    }

    // MARK: serializing

    @Test func serializedEscapesAndSortsAttributes() throws {
        let root = try parse("<s:E xmlns:s=\"u\" b=\"&quot;&#9;\" a=\"1\"> t&amp;&lt;&#13;<c/><d>]]&gt;</d></s:E>")
        #expect(root.serialized() == "<s:E a=\"1\" b=\"&quot;&#9;\" xmlns:s=\"u\">t&amp;&lt;<c/><d>]]&gt;</d></s:E>")
    }

    @Test("Parse, serialize, parse gives the same tree", arguments: [
        "<r/>", "<r> a <b>x</b> c </r>", "<r a=\"&#9;&#10;&#13; &quot;'&lt;&gt;&amp;\"/>", "<r>x&#13;y&#13;</r>",
        "<r>&#x3000;x&#xA0;</r>", "<r><![CDATA[]]>]]&gt;<![CDATA[<&>]]></r>", "<p:a xmlns:p=\"u\"><p:b p:c=\"d\"/></p:a>",
        "<r>\u{301}x</r>", "<r>  \u{85}x\u{2028}  </r>", "<サーバ 値=\"値\">値</サーバ>",
    ])
    func roundTrip(text: String) throws {
        let tree = try parse(text)
        let again = try parse(tree.serialized())
        #expect(again == tree, "\(tree.serialized())")
    }

    @Test func everyFixtureRoundTripsOrIsRefusedOnPurpose() throws {
        let refused: Set<String> = [
            Fixture.billionLaughs, Fixture.doctypeLowercase, Fixture.externalEntity, Fixture.entityWithoutDoctype,
            Fixture.deepNesting40,
        ]
        let files = try #require(FileManager.default.enumerator(atPath: FixtureLoader.root.path))
            .compactMap { $0 as? String }.filter { $0.hasSuffix(".xml") }.sorted()
        #expect(files.count >= 14)
        for path in files {
            let bytes = try FixtureLoader.bytes(path)
            if refused.contains(path) {
                #expect(throws: ProtocolViolation.self, "\(path)") { try XMLTree.parse(bytes) }
                continue
            }
            let tree = try XMLTree.parse(bytes)
            #expect(try XMLTree.parse(Array(tree.serialized().utf8)) == tree, "\(path)")
        }
    }
}
