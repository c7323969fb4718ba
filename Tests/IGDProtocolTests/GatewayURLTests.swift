import Foundation
import Testing
@testable import IGDProtocol

@Suite("GatewayURL and IPv4Address")
struct GatewayURLTests {
    // MARK: IPv4Address

    @Test("Canonical IPv4 addresses parse", arguments: [
        ("0.0.0.0", UInt32(0)),
        ("192.168.1.1", 0xC0A8_0101),
        ("255.255.255.255", 0xFFFF_FFFF),
        ("10.0.0.1", 0x0A00_0001),
        ("8.8.8.8", 0x0808_0808),
        ("100.64.0.1", 0x6440_0001),
    ])
    func ipv4Parses(text: String, value: UInt32) throws {
        let address = try #require(IPv4Address(text))
        #expect(address.value == value)
        #expect(address.description == text)
        #expect(IPv4Address(value: value) == address)
    }

    @Test("Non-canonical or malformed IPv4 text is refused", arguments: [
        "", "192.168.001.1", "192.168.1.01", "00.1.2.3", "1.2.3", "1.2.3.4.5", "1.2.3.4.", ".1.2.3",
        "256.1.1.1", "1.2.3.999", "1.2.3.1000", " 1.2.3.4", "1.2.3.4 ", "1.2.3.-4", "1.2.3.+4", "a.b.c.d",
        "1..3.4", "0x7f.0.0.1", "١٩٢.١٦٨.١.١", "１.２.３.４", "localhost", "::1",
    ])
    func ipv4Refused(text: String) {
        #expect(IPv4Address(text) == nil)
    }

    @Test func ipv4FromOctetsAndComparison() {
        let a = IPv4Address(192, 168, 1, 1)
        #expect(a == IPv4Address("192.168.1.1"))
        #expect(a.value == 0xC0A8_0101)
        #expect(IPv4Address(10, 0, 0, 1) < a)
        #expect(!(a < a))
        #expect(Set([a, IPv4Address(192, 168, 1, 1), IPv4Address(192, 168, 1, 2)]).count == 2)
    }

    @Test("Network membership", arguments: [
        ("192.168.1.2", "192.168.0.0", 16, true),
        ("192.169.1.2", "192.168.0.0", 16, false),
        ("172.31.255.255", "172.16.0.0", 12, true),
        ("172.32.0.0", "172.16.0.0", 12, false),
        ("8.8.8.8", "0.0.0.0", 0, true),
        ("10.0.0.1", "10.0.0.1", 32, true),
        ("10.0.0.2", "10.0.0.1", 32, false),
    ])
    func membership(address: String, network: String, prefix: Int, inside: Bool) throws {
        let a = try #require(IPv4Address(address))
        let n = try #require(IPv4Address(network))
        #expect(a.isIn(n, prefixLength: prefix) == inside)
    }

    @Test func ipv4CodableAsString() throws {
        let data = try JSONEncoder().encode([IPv4Address(192, 168, 77, 1)])
        #expect(String(decoding: data, as: UTF8.self) == "[\"192.168.77.1\"]")
        #expect(try JSONDecoder().decode([IPv4Address].self, from: data) == [IPv4Address(192, 168, 77, 1)])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([IPv4Address].self, from: Data("[\"192.168.077.1\"]".utf8)) }
    }

    // MARK: GatewayURL parsing

    @Test("URLs parse into host, port and request target", arguments: [
        ("http://192.168.1.1:2869/DeviceDescription.xml", "192.168.1.1", 2869, "/DeviceDescription.xml", "http://192.168.1.1:2869/DeviceDescription.xml", "192.168.1.1:2869"),
        ("http://192.168.1.1:2869/UD/?6", "192.168.1.1", 2869, "/UD/?6", "http://192.168.1.1:2869/UD/?6", "192.168.1.1:2869"),
        ("http://192.168.1.1/", "192.168.1.1", 80, "/", "http://192.168.1.1/", "192.168.1.1"),
        ("http://192.168.1.1", "192.168.1.1", 80, "/", "http://192.168.1.1/", "192.168.1.1"),
        ("http://192.168.1.1:80/x", "192.168.1.1", 80, "/x", "http://192.168.1.1/x", "192.168.1.1"),
        ("http://192.168.77.1:5000/ctl/IPConn#fragment", "192.168.77.1", 5000, "/ctl/IPConn", "http://192.168.77.1:5000/ctl/IPConn", "192.168.77.1:5000"),
        ("http://10.0.0.1:5000?x=1", "10.0.0.1", 5000, "/?x=1", "http://10.0.0.1:5000/?x=1", "10.0.0.1:5000"),
        ("http://10.0.0.1#top", "10.0.0.1", 80, "/", "http://10.0.0.1/", "10.0.0.1"),
        ("HTTP://10.0.0.1:65535/a%20b", "10.0.0.1", 65535, "/a%20b", "http://10.0.0.1:65535/a%20b", "10.0.0.1:65535"),
        ("  http://10.0.0.1/padded  ", "10.0.0.1", 80, "/padded", "http://10.0.0.1/padded", "10.0.0.1"),
    ])
    func parses(text: String, host: String, port: Int, target: String, description: String, hostHeader: String) throws {
        let url = try GatewayURL(parsing: text)
        #expect(url.host == IPv4Address(host))
        #expect(url.port == UInt16(port))
        #expect(url.target == target)
        #expect(url.description == description)
        #expect(url.hostHeader == hostHeader)
    }

    @Test("URLs a gateway may not send are refused", arguments: [
        "https://192.168.1.1/desc.xml",
        "ftp://192.168.1.1/desc.xml",
        "192.168.1.1/desc.xml",
        "//192.168.1.1/desc.xml",
        "http://router.local/desc.xml",
        "http://192.168.001.1/desc.xml",
        "http://user@192.168.1.1/",
        "http://user:pass@192.168.1.1:80/",
        "http://192.168.1.1:0/",
        "http://192.168.1.1:65536/",
        "http://192.168.1.1:/",
        "http://192.168.1.1:http/",
        "http://192.168.1.1:-80/",
        "http:///desc.xml",
        "http://[::1]:80/",
        "http://192.168.1.1/a b",
        "http://192.168.1.1/a\tb",
        "http://192.168.1.1/a\u{01}b",
        "http://192.168.1.1/\u{7F}",
        "http://192.168.1.1/サーバ",
        "http://192.168.1.1/x\r\nHost: evil",
        "",
    ])
    func refused(text: String) {
        #expect(throws: ProtocolViolation.self) { try GatewayURL(parsing: text) }
    }

    @Test("Leading zeros in a port are digits (RFC 3986 port = *DIGIT)", arguments: ["http://10.0.0.1:0080/x", "http://10.0.0.1:00080/x"])
    func portWithLeadingZeros(text: String) throws {
        #expect(try GatewayURL(parsing: text).port == 80)
    }

    /// RFC 3986 §3.2.3: port = *DIGIT. Swift's `UInt16("+80")` accepts a sign, which must not
    /// make "+80" a port.
    @Test("A port with a sign is refused", arguments: ["http://192.168.1.1:+80/", "http://192.168.1.1:+2869/UD/?6"])
    func signedPortIsRefused(text: String) {
        #expect(throws: ProtocolViolation.self) { try GatewayURL(parsing: text) }
        #expect(throws: ProtocolViolation.self) { try SSDP.validateLocation(text, source: IPv4Address(192, 168, 1, 1)) }
    }

    @Test func overlongURLIsRefused() throws {
        let target = "/" + String(repeating: "a", count: 2048)
        #expect(throws: ProtocolViolation.self) { try GatewayURL(parsing: "http://10.0.0.1" + target) }
        let fits = "http://10.0.0.1/" + String(repeating: "a", count: 2048 - "http://10.0.0.1/".count)
        #expect(try GatewayURL(parsing: fits).target.count == 2048 - "http://10.0.0.1".count)
    }

    @Test func refusalMessagesSayWhy() {
        func message(_ text: String) -> String {
            do { _ = try GatewayURL(parsing: text); return "accepted" } catch { return "\(error)" }
        }
        #expect(message("https://192.168.1.1/").contains("not http://"))
        #expect(message("http://user@192.168.1.1/").contains("user information"))
        #expect(message("http://192.168.1.1:0/").contains("invalid port"))
        #expect(message("http://router.local/").contains("IPv4"))
        #expect(message("http://192.168.1.1/a b").contains("spaces or control characters"))
        // Control characters are not echoed back raw.
        #expect(!message("http://192.168.1.1/a\u{01}b").contains("\u{01}"))
    }

    @Test func emptyTargetBecomesSlash() {
        let url = GatewayURL(host: IPv4Address(10, 0, 0, 1), port: 5000, target: "")
        #expect(url.target == "/")
        #expect(url.description == "http://10.0.0.1:5000/")
    }

    @Test func codableAsItsDescription() throws {
        let url = try GatewayURL(parsing: "http://192.168.1.1:2869/UD/?6")
        let data = try JSONEncoder().encode([url])
        #expect(String(decoding: data, as: UTF8.self) == "[\"http:\\/\\/192.168.1.1:2869\\/UD\\/?6\"]"
            || String(decoding: data, as: UTF8.self) == "[\"http://192.168.1.1:2869/UD/?6\"]")
        #expect(try JSONDecoder().decode([GatewayURL].self, from: data) == [url])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([GatewayURL].self, from: Data("[\"https://192.168.1.1/\"]".utf8)) }
    }

    // MARK: resolving references

    @Test("References resolve against the URL", arguments: [
        ("http://192.168.1.1:2869/", "/UD/?6", "http://192.168.1.1:2869/UD/?6"),
        ("http://192.168.1.1:2869/DeviceDescription.xml", "/UD/?13", "http://192.168.1.1:2869/UD/?13"),
        ("http://10.0.0.1:5000/desc/root.xml", "ctl/IPConn", "http://10.0.0.1:5000/desc/ctl/IPConn"),
        ("http://10.0.0.1:5000/desc/root.xml", "/ctl/IPConn", "http://10.0.0.1:5000/ctl/IPConn"),
        ("http://10.0.0.1:5000/desc/root.xml", "../ctl/IPConn", "http://10.0.0.1:5000/ctl/IPConn"),
        ("http://10.0.0.1:5000/desc/root.xml", "  /ctl/IPConn\n", "http://10.0.0.1:5000/ctl/IPConn"),
        ("http://10.0.0.1:5000/desc/root.xml", "http://10.0.0.1:5001/other", "http://10.0.0.1:5001/other"),
        ("http://10.0.0.1:5000/desc/root.xml", "HTTP://10.0.0.1/upper", "http://10.0.0.1/upper"),
        ("http://10.0.0.1:5000/desc/root.xml", "//10.0.0.2:6000/ctl", "http://10.0.0.2:6000/ctl"),
    ])
    func resolves(base: String, reference: String, resolved: String) throws {
        let url = try GatewayURL(parsing: base).resolving(reference)
        #expect(url.description == resolved)
    }

    @Test("References that cannot give a gateway URL are refused", arguments: [
        "", "   ", "https://10.0.0.1/ctl", "ftp://10.0.0.1/ctl", "http://router.local/ctl", "http://user@10.0.0.1/ctl",
        "javascript:alert(1)", "file:///etc/passwd",
    ])
    func resolvingRefused(reference: String) throws {
        let base = try GatewayURL(parsing: "http://10.0.0.1:5000/desc/root.xml")
        #expect(throws: ProtocolViolation.self) { try base.resolving(reference) }
    }

    // MARK: LOCATION validation

    @Test func validLocationFromTheSeed() throws {
        let url = try SSDP.validateLocation("http://192.168.1.1:2869/DeviceDescription.xml", source: IPv4Address(192, 168, 1, 1))
        #expect(url.host == IPv4Address(192, 168, 1, 1))
        #expect(url.port == 2869)
        #expect(url.target == "/DeviceDescription.xml")
    }

    @Test("LOCATION values that are refused", arguments: [
        "https://192.168.1.1:2869/DeviceDescription.xml",
        "http://gateway.home/DeviceDescription.xml",
        "http://user@192.168.1.1/",
        "http://192.168.1.2:2869/DeviceDescription.xml",
        "http://10.0.0.1:2869/DeviceDescription.xml",
        "http://192.168.1.1:99999/",
        "http://192.168.1.1:x/",
        "http://192.168.1.1:0/",
        "http://192.168.001.1/",
    ])
    func invalidLocation(location: String) {
        #expect(throws: ProtocolViolation.self) {
            try SSDP.validateLocation(location, source: IPv4Address(192, 168, 1, 1))
        }
    }

    @Test func locationOnAnotherAddressNamesBoth() {
        let error = #expect(throws: ProtocolViolation.self) {
            try SSDP.validateLocation("http://192.168.1.2/d.xml", source: IPv4Address(192, 168, 1, 1))
        }
        #expect(error?.description.contains("192.168.1.2") == true)
        #expect(error?.description.contains("192.168.1.1") == true)
    }
}
