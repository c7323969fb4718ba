import IGDProtocol
import MappingRegistry
import PortKeeper
import Testing

/// Issue 7 §3b: what `add --to` and `--description` accept, as pure functions.
@Suite("DeclarationInput: clients and descriptions")
struct DeclarationInputTests {
    static let lan = IPv4Subnet(address: IPv4Address(192, 168, 1, 10), netmask: IPv4Address(255, 255, 255, 0))
    static let loopback = IPv4Subnet(address: IPv4Address(127, 0, 0, 1), netmask: IPv4Address(255, 0, 0, 0))
    static let p2p = IPv4Subnet(address: IPv4Address(10, 0, 0, 0), netmask: IPv4Address(255, 255, 255, 254))
    static let interfaces = [loopback, lan, p2p]

    func refusal(_ text: String, allowRemote: Bool = false, subnets: [IPv4Subnet] = interfaces) -> String? {
        do {
            try DeclarationInput.client(IPv4Address(text)!, localSubnets: subnets, allowRemote: allowRemote)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test("Hosts of a local subnet are accepted", arguments: ["192.168.1.1", "192.168.1.10", "192.168.1.254", "10.0.0.0", "10.0.0.1"])
    func localHosts(host: String) {
        #expect(refusal(host) == nil)
    }

    @Test("Never a client, flag or not", arguments: [
        ("0.0.0.0", "unspecified"), ("0.255.255.255", "unspecified"), ("127.0.0.1", "loopback"), ("127.255.0.9", "loopback"),
        ("224.0.0.1", "multicast"), ("239.255.255.250", "multicast"), ("255.255.255.255", "limited broadcast"),
        ("240.0.0.1", "reserved"), ("192.168.1.255", "broadcast address of the local subnet 192.168.1.0/24"),
        ("192.168.1.0", "network address of the local subnet 192.168.1.0/24"),
    ])
    func neverAClient(host: String, why: String) {
        for allow in [false, true] {
            let message = refusal(host, allowRemote: allow)
            #expect(message?.contains("--to \(host) ") == true, "\(message ?? "accepted")")
            #expect(message?.contains(why) == true, "\(message ?? "accepted")")
        }
    }

    @Test("A host on no local subnet needs --allow-remote-client; the message lists the subnets, not loopback's")
    func remoteHost() {
        let message = refusal("10.9.9.9")
        // What to try (--allow-remote-client) is the CLI's to say (PortKeeperCLITests).
        #expect(message == "--to 10.9.9.9 is on none of this machine's subnets (this machine's subnets are 192.168.1.0/24, 10.0.0.0/31)")
        #expect(refusal("10.9.9.9", allowRemote: true) == nil)
        #expect(refusal("192.168.2.255", allowRemote: true) == nil, "another subnet's broadcast cannot be known")
        #expect(refusal("192.168.1.20", subnets: [Self.loopback])?.contains("this machine is on no IPv4 subnet") == true)
    }

    @Test("A /31 and a /32 have no network or broadcast address to refuse")
    func pointToPoint() {
        #expect(!Self.p2p.hasBroadcast)
        let host = IPv4Subnet(address: IPv4Address(172, 16, 0, 5), netmask: IPv4Address(255, 255, 255, 255))
        #expect(refusal("172.16.0.5", subnets: [host]) == nil)
        #expect(Self.lan.description == "192.168.1.0/24")
        #expect(Self.lan.broadcast == IPv4Address(192, 168, 1, 255))
    }

    @Test("Descriptions XML 1.0 cannot carry are refused, naming the character", arguments: [
        ("a\u{0}b", "control character (U+0000)"), ("\u{1}", "control character (U+0001)"), ("tab\there", "control character (U+0009)"),
        ("a\u{85}", "control character (U+0085)"), ("x\u{FFFE}", "U+FFFE, which XML 1.0 cannot carry"),
        ("\u{FFFF}y", "U+FFFF, which XML 1.0 cannot carry"),
    ])
    func badDescriptions(text: String, why: String) {
        let error = #expect(throws: PortKeeperError.self) { try DeclarationInput.description(text) }
        #expect(error?.description.contains(why) == true, "\(error?.description ?? "")")
    }

    @Test("Descriptions with any other character are kept as typed", arguments: ["Webサーバ (HTTP)", "a<b & \"c\"", "emoji 🛰️", "\u{FFFD} typed as such", "private use \u{E000}"])
    func goodDescriptions(text: String) throws {
        #expect(try DeclarationInput.description(text) == text)
    }

    @Test("Raw argv: the first argument that is not UTF-8 is found and refused")
    func rawArguments() {
        let good: [[UInt8]] = [Array("portkeeper".utf8), Array("add".utf8), Array("Webサーバ".utf8), []]
        #expect(DeclarationInput.firstInvalidUTF8(good) == nil)
        #expect(throws: Never.self) { try DeclarationInput.checkUTF8(good) }
        for bad: [UInt8] in [[0x61, 0xFF, 0x62], [0xC3], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80]] {
            #expect(DeclarationInput.firstInvalidUTF8(good + [bad]) == good.count, "\(bad)")
        }
        let error = #expect(throws: PortKeeperError.self) { try DeclarationInput.checkUTF8([Array("add".utf8), [0x63, 0x61, 0x66, 0xE9]]) }
        #expect(error?.description == "argument 'caf\u{FFFD}' is not valid UTF-8 (shown with U+FFFD for the bad bytes); type it in a UTF-8 terminal or locale")
    }
}

/// What `add` and `remove` accept for a key, `--to` and `--lease`, as pure functions (the
/// bad-input table checks the same through the CLI's commands).
@Suite("DeclarationInput: keys, targets and leases")
struct DeclarationInputKeyTests {
    func message(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test("A key is PORT/PROTO, the protocol in any case")
    func keys() throws {
        #expect(try DeclarationInput.key("8080/tcp") == MappingKey(protocol: .tcp, externalPort: 8080))
        #expect(try DeclarationInput.key("53/UDP") == MappingKey(protocol: .udp, externalPort: 53))
        #expect(try DeclarationInput.key("65535/Tcp") == MappingKey(protocol: .tcp, externalPort: 65535))
        #expect(try DeclarationInput.key("1/udp") == MappingKey(protocol: .udp, externalPort: 1))
    }

    @Test("A key that is not PORT/PROTO is refused, saying which part is wrong", arguments: [
        ("8080", "'8080' is not PORT/PROTO"), ("", "'' is not PORT/PROTO"), ("80/tcp/x", "'80/tcp/x' is not PORT/PROTO"),
        ("0/tcp", "external port '0' is not a number from 1 to 65535"), ("65536/tcp", "external port '65536' is not a number from 1 to 65535"),
        ("/tcp", "external port '' is not a number from 1 to 65535"), ("+80/tcp", "external port '+80'"), ("٨٠/tcp", "external port '٨٠'"),
        ("080080/tcp", "external port '080080'"), ("80/sctp", "protocol 'sctp' is neither tcp nor udp"), ("80/", "protocol '' is neither tcp nor udp"),
    ])
    func badKeys(text: String, expected: String) {
        let refusal = message { _ = try DeclarationInput.key(text) }
        #expect(refusal?.contains(expected) == true, "\(refusal ?? "accepted")")
    }

    @Test("--to: nothing is this host on the same port; a host, a port or both")
    func targets() throws {
        #expect(try DeclarationInput.target(nil).client == .thisHost)
        #expect(try DeclarationInput.target(nil).port == nil)
        #expect(try DeclarationInput.target("").client == .thisHost)
        #expect(try DeclarationInput.target("").port == nil)
        #expect(try DeclarationInput.target(":9000").client == .thisHost)
        #expect(try DeclarationInput.target(":9000").port == 9000)
        #expect(try DeclarationInput.target("192.168.1.20").client == .address(IPv4Address(192, 168, 1, 20)))
        #expect(try DeclarationInput.target("192.168.1.20").port == nil)
        #expect(try DeclarationInput.target("192.168.1.20:80").client == .address(IPv4Address(192, 168, 1, 20)))
        #expect(try DeclarationInput.target("192.168.1.20:80").port == 80)
    }

    @Test("--to that is not [IPv4][:PORT] is refused", arguments: [
        ("192.168.001.5", "'192.168.001.5' is not an IPv4 address written canonically"), ("host.local", "'host.local' is not an IPv4 address"),
        ("1.2.3", "'1.2.3' is not an IPv4 address"), ("192.168.1.5:", "internal port '' is not a number from 1 to 65535"),
        (":0", "internal port '0'"), (":70000", "internal port '70000'"), ("[::1]:80", "'[::1]' is not an IPv4 address"),
    ])
    func badTargets(text: String, expected: String) {
        let refusal = message { _ = try DeclarationInput.target(text) }
        #expect(refusal?.contains(expected) == true, "\(refusal ?? "accepted")")
    }

    @Test("A lease is 0 (permanent) to 604800 seconds")
    func leases() throws {
        #expect(try DeclarationInput.lease(0) == 0)
        #expect(try DeclarationInput.lease(3600) == 3600)
        #expect(try DeclarationInput.lease(604_800) == DeclarationInput.maxLease)
        for bad in [-1, 604_801, Int.max, Int.min] {
            #expect(message { _ = try DeclarationInput.lease(bad) } == "lease \(bad) is outside 0...604800 seconds (0 asks for a permanent mapping)")
        }
    }
}
