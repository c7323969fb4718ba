import IGDProtocol
import PortKeeperModel
import Yams

/// A declaration kept in a file the user edits: what `apply -f` makes true and `export` writes.
///
/// ```yaml
/// # portkeeper apply -f ports.yaml
/// portkeeper: 1                     # the format's version (optional)
/// gateway: uuid:0bd2…               # UDN, name or description URL (optional when one is known)
/// mappings:
///   - port: 8080/tcp                # as `add` takes it
///     description: web server       # optional, default "portkeeper"
///   - port: 27015/udp
///     to: 192.168.1.20:27016        # optional: [HOST][:PORT], default this host, same port
///     lease: 3600                   # optional, seconds, 0 permanent (default)
///     allow-remote-client: true     # optional, as `add --allow-remote-client`
/// ```
///
/// Every value is read as the text written and checked by the same rules as `add`'s
/// arguments (``DeclarationInput``), never by YAML's implicit typing (`no` is not false, `22:22`
/// is not 1342). Unknown keys, duplicates and wrong shapes are errors naming the file, the line
/// and the field; a file with any error declares nothing.
public struct DeclarationFile: Sendable, Equatable {
    /// The newest format version this portkeeper reads and writes.
    public static let formatVersion = 1
    /// Files larger than this are refused before parsing (a declaration is a few KiB).
    public static let maxBytes = 1 << 20
    /// At most this many mappings (a router's table holds far fewer).
    public static let maxMappings = 4096

    /// The gateway reference written in the file, if any.
    public var gateway: String?
    /// The mappings, in file order.
    public var mappings: [Entry]

    /// One mapping of the file, checked.
    public struct Entry: Sendable, Equatable {
        /// The mapping as declared, every field checked by `add`'s rules.
        public var mapping: DeclaredMapping
        /// The user said `allow-remote-client: true` for this one.
        public var allowRemoteClient: Bool
        /// The line of its `port:` (1-based), for errors found later (a client off the LAN).
        public var line: Int

        /// An entry of a file, or of a declaration built in code (`line` 0: no file).
        public init(mapping: DeclaredMapping, allowRemoteClient: Bool = false, line: Int = 0) {
            self.mapping = mapping
            self.allowRemoteClient = allowRemoteClient
            self.line = line
        }
    }

    /// A declaration file's content: the gateway it names (nil: the one known) and its mappings.
    public init(gateway: String?, mappings: [Entry]) {
        self.gateway = gateway
        self.mappings = mappings
    }

    /// Parses and checks `bytes`, read from `path` (named in errors).
    /// - Throws: ``PortKeeperError`` "PATH:LINE: FIELD …" for the first problem found.
    public static func parse(_ bytes: [UInt8], path: String) throws -> DeclarationFile {
        guard bytes.count <= maxBytes else {
            throw PortKeeperError(.invalidInput, "\(path): \(bytes.count) bytes, over the \(maxBytes)-byte limit of a declaration file")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw PortKeeperError(.invalidInput, "\(path): not UTF-8 text", hint: "save it as UTF-8")
        }
        let root: Node
        do {
            guard let composed = try Yams.compose(yaml: text, .basic) else {
                throw PortKeeperError(.invalidInput, "\(path): empty file", hint: "write at least `mappings: []` to declare nothing")
            }
            root = composed
        } catch let error as PortKeeperError {
            throw error
        } catch let error as YamlError {
            throw PortKeeperError(.invalidInput, "\(path)\(describe(error))")
        } catch {
            throw PortKeeperError(.invalidInput, "\(path): not readable as YAML")
        }
        return try Reader(path: path).file(root)
    }

    /// Checks each mapping's `to:` host as `add` checks `--to` (``DeclarationInput/client(_:localSubnets:allowRemote:)``),
    /// against this machine's subnets, honouring each one's `allow-remote-client`.
    /// - Throws: ``PortKeeperError`` "PATH:LINE: to: …" for the first that fails.
    public func checkClients(localSubnets: [IPv4Subnet], path: String) throws {
        for entry in mappings {
            guard case .address(let address) = entry.mapping.client else { continue }
            do {
                try DeclarationInput.client(address, localSubnets: localSubnets, allowRemote: entry.allowRemoteClient)
            } catch let error as PortKeeperError {
                // The advice the CLI gives `--to` (ErrorRendering), in the file's own words.
                let message = error.message.replacingOccurrences(of: "--to \(address)", with: "\(address)")
                let hint: String? = switch error.context {
                case .clientOffSubnet: "check the address; if the machine is reachable through the router all the same, add `allow-remote-client: true` to it"
                case .clientLoopback, .clientUnspecified: "leave out the host (to: :PORT) for this machine, or give another machine's LAN address"
                default: error.hint
                }
                throw PortKeeperError("\(path):\(entry.line): to: \(message)", hint: hint)
            }
        }
    }

    /// The file's text: the format version, the gateway when given, then each mapping with
    /// every field that differs from its default. `parse` reads it back equal.
    public func yaml() -> String {
        var lines = ["# portkeeper declaration: `portkeeper apply -f FILE` makes the router match it.",
                     "portkeeper: \(Self.formatVersion)"]
        if let gateway { lines.append("gateway: \(Self.quoted(gateway))") }
        guard !mappings.isEmpty else { return (lines + ["mappings: []"]).joined(separator: "\n") + "\n" }
        lines.append("mappings:")
        for entry in mappings {
            let mapping = entry.mapping
            lines.append("  - port: \(mapping.key)")
            if let to = Self.target(mapping) { lines.append("    to: \(Self.quoted(to))") }
            if mapping.description != Self.defaultDescription { lines.append("    description: \(Self.quoted(mapping.description))") }
            if mapping.leaseDuration != 0 { lines.append("    lease: \(mapping.leaseDuration)") }
            if entry.allowRemoteClient { lines.append("    allow-remote-client: true") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The description `add` gives when none is asked for.
    public static let defaultDescription = "portkeeper"

    /// `to:` as written, or nil for this host on the same port.
    static func target(_ mapping: DeclaredMapping) -> String? {
        let samePort = mapping.internalPort == mapping.key.externalPort
        switch mapping.client {
        case .thisHost: return samePort ? nil : ":\(mapping.internalPort)"
        case .address(let address): return samePort ? "\(address)" : "\(address):\(mapping.internalPort)"
        }
    }

    /// A YAML double-quoted scalar: always, so that no text is read back as another type.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\x" + String(repeating: "0", count: scalar.value < 0x10 ? 1 : 0) + String(scalar.value, radix: 16, uppercase: true)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// libyaml's complaint in one line, after the path: ":LINE: …" (1-based) or ": …".
    static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return ":\(mark.line): not valid YAML: \(problem)"
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ":\(context.mark.line): '\(duplicates.first?.prefix(40) ?? "")' appears twice in the same mapping"
        case .reader(let problem, _, _, _):
            return ": not valid YAML: \(problem)"
        default:
            return ": not valid YAML"
        }
    }
}

/// Walks the composed YAML, checking shapes and fields; every error names the file and line.
private struct Reader {
    let path: String

    func fail(_ node: Node?, _ message: String, hint: String? = nil, context: PortKeeperError.Context = .none) -> PortKeeperError {
        let line = node?.mark.map { ":\($0.line)" } ?? ""
        return PortKeeperError(.invalidInput, "\(path)\(line): \(message)", hint: hint, context: context)
    }

    /// The pairs of a mapping node, refusing duplicate and unknown keys.
    func fields(_ node: Node, allowed: [String], what: String) throws -> [String: (key: Node, value: Node)] {
        guard case .mapping(let mapping) = node else { throw fail(node, "\(what) must be a mapping of keys to values") }
        var seen: [String: (key: Node, value: Node)] = [:]
        for (key, value) in mapping {
            guard case .scalar(let name) = key else { throw fail(key, "a key in \(what) must be plain text") }
            guard allowed.contains(name.string) else {
                throw fail(key, "unknown key '\(name.string.prefix(40))' in \(what)", hint: "the keys are " + allowed.joined(separator: ", "))
            }
            guard seen[name.string] == nil else { throw fail(key, "'\(name.string)' appears twice in \(what)") }
            seen[name.string] = (key, value)
        }
        return seen
    }

    func text(_ node: Node, field: String) throws -> String {
        guard case .scalar(let scalar) = node else { throw fail(node, "\(field) must be a single value") }
        return scalar.string
    }

    /// Runs one of ``DeclarationInput``'s checks, its error prefixed with where and which field.
    func checked<T>(_ node: Node, field: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as PortKeeperError {
            throw fail(node, "\(field): \(error.message)", hint: error.hint, context: error.context)
        }
    }

    func file(_ root: Node) throws -> DeclarationFile {
        let top = try fields(root, allowed: ["portkeeper", "gateway", "mappings"], what: "the file")
        if let version = top["portkeeper"] {
            let written = try text(version.value, field: "portkeeper")
            guard let number = Int(written), (1...DeclarationFile.formatVersion).contains(number) else {
                throw fail(version.value, "format version '\(written.prefix(20))' is not one this portkeeper reads (1 to \(DeclarationFile.formatVersion))",
                           hint: "a newer portkeeper wrote it; upgrade")
            }
        }
        var gateway: String?
        if let field = top["gateway"] {
            let reference = try text(field.value, field: "gateway")
            guard !reference.isEmpty, reference.count <= 512, !reference.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw fail(field.value, "gateway must be a UDN, a name or a description URL on one line")
            }
            gateway = reference
        }
        guard let list = top["mappings"] else {
            throw fail(root, "no 'mappings:' list", hint: "write `mappings: []` to declare nothing")
        }
        guard case .sequence(let items) = list.value else {
            throw fail(list.value, "mappings must be a list (each item starting with '- ')")
        }
        guard items.count <= DeclarationFile.maxMappings else {
            throw fail(list.value, "\(items.count) mappings, over the limit of \(DeclarationFile.maxMappings)")
        }
        var entries: [DeclarationFile.Entry] = []
        var lines: [MappingKey: Int] = [:]
        for item in items {
            let entry = try mapping(item)
            if let first = lines[entry.mapping.key] {
                throw fail(item, "\(entry.mapping.key) is declared twice (first on line \(first))")
            }
            lines[entry.mapping.key] = entry.line
            entries.append(entry)
        }
        return DeclarationFile(gateway: gateway, mappings: entries)
    }

    func mapping(_ item: Node) throws -> DeclarationFile.Entry {
        let f = try fields(item, allowed: ["port", "to", "description", "lease", "allow-remote-client"], what: "a mapping")
        guard let port = f["port"] else { throw fail(item, "a mapping without 'port:' (like port: 8080/tcp)") }
        let written = try text(port.value, field: "port")
        let key = try checked(port.value, field: "port") { try DeclarationInput.key(written) }
        var target: (client: InternalClient, port: UInt16?) = (.thisHost, nil)
        if let to = f["to"] {
            let written = try text(to.value, field: "to")
            target = try checked(to.value, field: "to") { try DeclarationInput.target(written) }
        }
        var description = DeclarationFile.defaultDescription
        if let field = f["description"] {
            let written = try text(field.value, field: "description")
            description = try checked(field.value, field: "description") { try DeclarationInput.description(written) }
        }
        var lease: UInt32 = 0
        if let field = f["lease"] {
            let written = try text(field.value, field: "lease")
            guard written.count <= 7, let seconds = Int(written) else {
                throw fail(field.value, "lease: '\(written.prefix(20))' is not a whole number of seconds")
            }
            lease = try checked(field.value, field: "lease") { try DeclarationInput.lease(seconds) }
        }
        var allowRemote = false
        if let field = f["allow-remote-client"] {
            switch try text(field.value, field: "allow-remote-client") {
            case "true": allowRemote = true
            case "false": allowRemote = false
            case let other: throw fail(field.value, "allow-remote-client: '\(other.prefix(20))' is neither true nor false")
            }
        }
        let mapping = DeclaredMapping(key: key, client: target.client, internalPort: target.port ?? key.externalPort,
                                      description: description, leaseDuration: lease)
        return DeclarationFile.Entry(mapping: mapping, allowRemoteClient: allowRemote, line: port.key.mark?.line ?? 0)
    }
}
