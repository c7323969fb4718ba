import IGDProtocol
import MappingRegistry
import Testing
@testable import PortKeeper

@Suite("Declaration file: what apply -f reads and export writes")
struct DeclarationFileTests {
    func parse(_ text: String) throws -> DeclarationFile {
        try DeclarationFile.parse(Array(text.utf8), path: "ports.yaml")
    }

    /// The one-line error parsing `text` gives.
    func error(_ text: String) -> String {
        do {
            _ = try parse(text)
            return "(accepted)"
        } catch {
            return "\(error)"
        }
    }

    @Test("every field add takes is read, defaults filled in as add fills them")
    func fullFile() throws {
        let file = try parse("""
            # my ports
            portkeeper: 1
            gateway: uuid:gw-1
            mappings:
              - port: 8080/tcp
                description: web server
              - port: 27015/UDP
                to: 192.168.1.20:27016
                lease: 3600
                allow-remote-client: true
              - port: 2222/tcp
                to: :22
            """)
        #expect(file.gateway == "uuid:gw-1")
        #expect(file.mappings.map(\.mapping) == [
            DeclaredMapping(key: MappingKey(protocol: .tcp, externalPort: 8080), client: .thisHost, internalPort: 8080, description: "web server"),
            DeclaredMapping(key: MappingKey(protocol: .udp, externalPort: 27015), client: .address(IPv4Address(192, 168, 1, 20)),
                            internalPort: 27016, description: "portkeeper", leaseDuration: 3600),
            DeclaredMapping(key: MappingKey(protocol: .tcp, externalPort: 2222), client: .thisHost, internalPort: 22, description: "portkeeper"),
        ])
        #expect(file.mappings.map(\.allowRemoteClient) == [false, true, false])
        #expect(file.mappings.map(\.line) == [5, 7, 11])
    }

    @Test("YAML's implicit types do not apply: 'no' is a description, 0x10 is not a lease")
    func noImplicitTyping() throws {
        let file = try parse("mappings:\n  - port: 8080/tcp\n    description: no\n")
        #expect(file.mappings.first?.mapping.description == "no")
        #expect(error("mappings:\n  - port: 8080/tcp\n    lease: 0x10\n") == "ports.yaml:3: lease: '0x10' is not a whole number of seconds")
    }

    @Test("what export writes is read back equal, odd descriptions included")
    func roundTrip() throws {
        let original = DeclarationFile(gateway: "My \"router\" #1", mappings: [
            .init(mapping: DeclaredMapping(key: MappingKey(protocol: .tcp, externalPort: 80), client: .thisHost, internalPort: 8080,
                                           description: "a: b # c \\ 'd' – ünïcode", leaseDuration: 0), allowRemoteClient: false, line: 4),
            .init(mapping: DeclaredMapping(key: MappingKey(protocol: .udp, externalPort: 53), client: .address(IPv4Address(10, 0, 0, 2)),
                                           internalPort: 53, description: "true", leaseDuration: 604_800), allowRemoteClient: true, line: 6),
        ])
        let read = try parse(original.yaml())
        #expect(read.gateway == original.gateway)
        #expect(read.mappings.map(\.mapping) == original.mappings.map(\.mapping))
        #expect(read.mappings.map(\.allowRemoteClient) == [false, true])
        #expect(try parse(DeclarationFile(gateway: nil, mappings: []).yaml()).mappings.isEmpty)
    }

    @Test("each mistake is one line naming the file, the line and the field", arguments: [
        ("mappings:\n  - port: 80/tcp\n  - port: 70000/tcp\n", "ports.yaml:3: port: external port '70000' is not a number from 1 to 65535"),
        ("mappings:\n  - port: 80/tcp\n    to: 999.1.1.1\n", "ports.yaml:3: to: '999.1.1.1' is not an IPv4 address written canonically (like 192.168.1.20)"),
        ("mappings:\n  - port: 80/tcp\n    lease: 604801\n", "ports.yaml:3: lease: lease 604801 is outside 0...604800 seconds (0 asks for a permanent mapping)"),
        ("mappings:\n  - port: 80/tcp\n    descripton: x\n", "ports.yaml:3: unknown key 'descripton' in a mapping; the keys are port, to, description, lease, allow-remote-client"),
        ("mappings:\n  - port: 80/tcp\n  - port: 80/TCP\n", "ports.yaml:3: 80/tcp is declared twice (first on line 2)"),
        ("mappings:\n  - to: :80\n", "ports.yaml:2: a mapping without 'port:' (like port: 8080/tcp)"),
        ("mappings:\n  port: 80/tcp\n", "ports.yaml:2: mappings must be a list (each item starting with '- ')"),
        ("gateway: x\n", "ports.yaml:1: no 'mappings:' list; write `mappings: []` to declare nothing"),
        ("portkeeper: 2\nmappings: []\n", "ports.yaml:1: format version '2' is not one this portkeeper reads (1 to 1); a newer portkeeper wrote it; upgrade"),
        ("mappings: []\nmappings: []\n", "ports.yaml:1: 'mappings' appears twice in the same mapping"),
        ("mappings:\n  - port: [80, tcp]\n", "ports.yaml:2: port must be a single value"),
        ("mappings:\n  - port: 80/tcp\n    description: \"a\\tb\"\n", "ports.yaml:3: description: the description contains a control character (U+0009)"),
        ("mappings:\n  - port: 80/tcp\n   bad indent: [\n", "ports.yaml:3: not valid YAML: did not find expected '-' indicator"),
        ("", "ports.yaml: empty file; write at least `mappings: []` to declare nothing"),
    ])
    func mistakes(text: String, expected: String) {
        #expect(error(text) == expected)
    }

    @Test("a file that is not UTF-8 or is too large is refused before parsing")
    func refusedUnread() {
        #expect(throws: PortKeeperError.self) { try DeclarationFile.parse([0x6D, 0xFF, 0x3A], path: "p") }
        let big = [UInt8](repeating: 0x20, count: DeclarationFile.maxBytes + 1)
        do {
            _ = try DeclarationFile.parse(big, path: "p")
            Issue.record("accepted")
        } catch {
            #expect("\(error)" == "p: \(DeclarationFile.maxBytes + 1) bytes, over the \(DeclarationFile.maxBytes)-byte limit of a declaration file")
        }
    }

    @Test("anchors and aliases cannot make the walk blow up: the list is capped")
    func aliasBomb() {
        var text = "a: &a [{port: 1/tcp}]\n"
        for n in 1...12 { text += "l\(n): &l\(n) [" + Array(repeating: "*\(n == 1 ? "a" : "l\(n - 1)")", count: 10).joined(separator: ",") + "]\n" }
        text += "mappings: *l12\n"
        // Unknown keys are refused before anything is walked.
        #expect(error(text).hasPrefix("ports.yaml:1: unknown key 'a' in the file"))
        let long = "mappings:\n" + (1...4097).map { "  - port: \($0)/tcp\n" }.joined()
        #expect(error(long) == "ports.yaml:2: 4097 mappings, over the limit of 4096")
    }
}
