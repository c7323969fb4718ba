/// TCP or UDP. Sent upper-case: some routers reject any other spelling.
public enum TransportProtocol: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// TCP.
    case tcp = "TCP"
    /// UDP.
    case udp = "UDP"

    /// Accepts any case ("tcp", "Udp").
    public init?(caseInsensitive text: String) {
        self.init(rawValue: text.uppercased())
    }

    public var description: String { rawValue }
}

/// One entry of a gateway's port-mapping table, as the gateway reports it.
public struct PortMappingEntry: Sendable, Equatable, Hashable, Codable {
    /// Empty means any remote host (the wildcard).
    public var remoteHost: String
    /// The port on the gateway's external address.
    public var externalPort: UInt16
    /// TCP or UDP.
    public var `protocol`: TransportProtocol
    /// The port on the internal client it forwards to.
    public var internalPort: UInt16
    /// The LAN address it forwards to, as the gateway reports it (checked before it is acted on).
    public var internalClient: String
    /// Whether the gateway forwards it.
    public var enabled: Bool
    public var description: String
    /// Seconds; 0 means permanent (IGDv2 gateways turn it into 604800).
    public var leaseDuration: UInt32

    /// An entry with every field given; any remote host, enabled and permanent unless said otherwise.
    public init(
        remoteHost: String = "", externalPort: UInt16, protocol: TransportProtocol, internalPort: UInt16,
        internalClient: String, enabled: Bool = true, description: String, leaseDuration: UInt32 = 0
    ) {
        self.remoteHost = remoteHost
        self.externalPort = externalPort
        self.protocol = `protocol`
        self.internalPort = internalPort
        self.internalClient = internalClient
        self.enabled = enabled
        self.description = description
        self.leaseDuration = leaseDuration
    }
}

extension PortMappingEntry {
    /// What does not make sense in this entry as a gateway reported it: an internal client
    /// that is not an IPv4 address (or none on an enabled entry), an internal port of 0.
    /// Empty when the entry can be shown and acted on.
    ///
    /// An empty client on a disabled entry is kept: the NTT seed router lists its own
    /// disabled port-80 entry that way.
    public var problems: [String] {
        var problems: [String] = []
        if internalClient.isEmpty {
            if enabled { problems.append("an enabled entry with no internal client") }
        } else if IPv4Address(internalClient) == nil {
            problems.append("internal client '\(Self.shown(internalClient))' is not an IPv4 address")
        }
        if internalPort == 0 { problems.append("internal port 0") }
        if externalPort == 0 { problems.append("external port 0") }
        return problems
    }

    /// At most 40 characters of a gateway's value, control characters replaced: safe to show.
    static func shown(_ text: String) -> String {
        String(String(text.unicodeScalars.prefix(40).map { $0.value < 0x20 || $0.value == 0x7f ? "?" : Character($0) }))
    }

    /// Checks what a listing returned for one entry and builds it, or throws
    /// ``InvalidPortMappingEntry`` naming every field that does not make sense.
    /// - Parameters:
    ///   - fields: the entry's values by argument name.
    ///   - descriptionField, leaseField: the names this action uses (they differ between
    ///     GetGenericPortMappingEntry and a PortMappingList).
    ///   - key: the external port and protocol when the request fixed them (GetSpecificPortMappingEntry).
    static func checked(_ fields: [String: String], action: String, index: Int?, descriptionField: String, leaseField: String,
                        key: (remoteHost: String, externalPort: UInt16, protocol: TransportProtocol)? = nil) throws -> PortMappingEntry {
        var problems: [String] = []
        func port(_ name: String) -> UInt16 {
            guard let text = fields[name] else { problems.append("no \(name)"); return 0 }
            guard let value = UInt16(text), value > 0 else { problems.append("\(name) '\(shown(text))' is not a port from 1 to 65535"); return 0 }
            return value
        }
        let externalPort = key?.externalPort ?? port("NewExternalPort")
        var proto = key?.protocol
        if proto == nil {
            if let text = fields["NewProtocol"] {
                proto = TransportProtocol(caseInsensitive: text)
                if proto == nil { problems.append("NewProtocol '\(shown(text))' is neither TCP nor UDP") }
            } else {
                problems.append("no NewProtocol")
            }
        }
        let internalPort = port("NewInternalPort")
        var enabled = true
        switch fields["NewEnabled"]?.lowercased() {
        case "1", "true", "yes": enabled = true
        case "0", "false", "no": enabled = false
        case nil: problems.append("no NewEnabled")
        case let other?: problems.append("NewEnabled '\(shown(other))' is not a boolean")
        }
        let client = fields["NewInternalClient"]
        if client == nil { problems.append("no NewInternalClient") }
        var lease: UInt32 = 0
        if let text = fields[leaseField], !text.isEmpty {
            if let value = UInt32(text) { lease = value } else { problems.append("\(leaseField) '\(shown(text))' is not a number of seconds") }
        }
        let entry = PortMappingEntry(
            remoteHost: key?.remoteHost ?? fields["NewRemoteHost"] ?? "", externalPort: externalPort, protocol: proto ?? .tcp,
            internalPort: internalPort, internalClient: client ?? "", enabled: enabled,
            description: fields[descriptionField] ?? "", leaseDuration: lease
        )
        // Port and client problems already named above are not named twice.
        problems += entry.problems.filter { !$0.hasPrefix("internal port") && !$0.hasPrefix("external port") && (client != nil || !$0.contains("no internal client")) }
        guard problems.isEmpty else {
            throw InvalidPortMappingEntry(action: action, index: index, fields: fields, problems: problems)
        }
        return entry
    }
}

/// A listing entry that does not make sense: shown as a warning, never acted on.
///
/// Also a ``ProtocolViolation`` where one is expected: ``asViolation``.
public struct InvalidPortMappingEntry: Error, Sendable, Equatable, CustomStringConvertible {
    /// The action that listed it.
    public let action: String
    /// The index asked for (GetGenericPortMappingEntry), when there is one.
    public let index: Int?
    /// The values as the gateway sent them.
    public let fields: [String: String]
    /// What does not make sense, one phrase each.
    public let problems: [String]

    /// An entry `action` listed (at `index`), with its raw `fields` and what is wrong with them.
    public init(action: String, index: Int?, fields: [String: String], problems: [String]) {
        self.action = action
        self.index = index
        self.fields = fields
        self.problems = problems
    }

    /// "8080/TCP → x.y:80 'web'", as far as the fields tell.
    public var summary: String {
        func field(_ name: String) -> String { fields[name].map(PortMappingEntry.shown) ?? "?" }
        let description = fields["NewPortMappingDescription"] ?? fields["NewDescription"]
        return "\(field("NewExternalPort"))/\(field("NewProtocol")) → \(field("NewInternalClient")):\(field("NewInternalPort"))"
            + (description.map { " '\(PortMappingEntry.shown($0))'" } ?? "")
    }

    public var description: String {
        (index.map { "entry \($0) " } ?? "entry ") + "(\(summary)): " + problems.joined(separator: "; ")
    }

    /// The same, as a protocol violation of `action`'s answer.
    public var asViolation: ProtocolViolation {
        ProtocolViolation("\(action) answered an entry that makes no sense: \(description)")
    }
}
