import IGDProtocol

/// Who made a revision.
public enum RevisionActor: String, Sendable, Codable {
    /// A command (or a program using the library).
    case cli
    /// `portkeeper watch`, on its own.
    case watch
}

/// One thing a revision changed or found.
public struct Change: Hashable, Sendable, Codable, CustomStringConvertible {
    /// What happened; the raw value is the stable name history's JSON uses.
    public enum Kind: String, Sendable, Codable {
        // The declaration.
        /// A mapping declared.
        case declared
        /// A declaration removed.
        case undeclared
        /// A declared mapping's description, lease or enabled state changed.
        case redeclared
        // What portkeeper did on the gateway.
        /// A mapping written.
        case added
        /// A mapping removed.
        case deleted
        /// A mapping written again because it differed.
        case updated
        /// Another client's entry replaced (`--force`).
        case replaced
        /// An operation the gateway refused or did not answer.
        case failed
        /// A lease renewed.
        case renewed
        // What portkeeper found on the gateway and did not make.
        /// A mapping portkeeper had made was gone (a reboot, a cleanup, `upnpc -d`).
        case foundMissing = "found-missing"
        /// A mapping portkeeper had made was changed by someone else.
        case foundChanged = "found-changed"
        /// Another program's entry, left alone.
        case foundForeign = "found-foreign"
        /// The gateway's external address changed.
        case addressChanged = "address-changed"
        /// The gateway answers at a new description URL, or only over PCP/NAT-PMP now (UPnP IGD
        /// switched off at the router).
        case gatewayMoved = "gateway-moved"
        /// This host's address changed; "this host" mappings moved with it.
        case hostAddressChanged = "host-address-changed"
        /// The declaration was restored as it was after an earlier revision.
        case rolledBack = "rolled-back"
    }

    /// What happened.
    public var kind: Kind
    /// The mapping it concerns; nil for the gateway as a whole (a move, a new address).
    public var key: MappingKey?
    /// What happened, in words ("→ 192.168.1.5:8080").
    public var detail: String
    /// The mapping as it was before the change, where there was one and it is known
    /// (nil in revisions recorded before portkeeper kept it).
    public var before: MappingState?
    /// The mapping as the change left it (for ``Kind/failed``: as it was asked for); nil when
    /// the change removed it or it is not known.
    public var after: MappingState?

    /// A change of `kind` to `key`, described by `detail`, with the mapping as it was and as
    /// the change left it where they are known.
    public init(_ kind: Kind, _ key: MappingKey? = nil, _ detail: String, before: MappingState? = nil, after: MappingState? = nil) {
        self.kind = kind
        self.key = key
        self.detail = detail
        self.before = before
        self.after = after
    }

    public var description: String {
        [kind.rawValue, key?.description, detail].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
    }

    /// A revision's summary for `history`: "added 2, deleted 1 (not in sync)", "gateway moved".
    public static func summary(of changes: [Change], inSync: Bool = true) -> String {
        var counts: [Kind: Int] = [:]
        for change in changes where change.key != nil { counts[change.kind, default: 0] += 1 }
        let order: [Kind] = [.foundMissing, .foundChanged, .added, .updated, .replaced, .deleted, .renewed, .failed]
        var parts = order.compactMap { kind in counts[kind].map { "\(kind.rawValue) \($0)" } }
        if changes.contains(where: { $0.kind == .addressChanged }) { parts.append("external address changed") }
        if changes.contains(where: { $0.kind == .gatewayMoved }) { parts.append("gateway moved") }
        if changes.contains(where: { $0.kind == .hostAddressChanged }) { parts.append("this host's address changed") }
        if parts.isEmpty { parts.append("nothing to do") }
        return parts.joined(separator: ", ") + (inSync ? "" : " (not in sync)")
    }
}

/// Who records a revision: the command's name as history shows it, and who ran it.
public struct RevisionAuthor: Sendable, Equatable {
    /// The command ("status", "reconcile", "watch").
    public var command: String
    /// A command line (or a program using the library), or watch on its own.
    public var actor: RevisionActor

    /// The author of revisions recorded for `command`, run by `actor`.
    public init(command: String, actor: RevisionActor) {
        self.command = command
        self.actor = actor
    }
}

/// A mapping as a change saw it, the same whether it was on the gateway or in the declaration.
public struct MappingState: Hashable, Sendable, Codable {
    /// TCP or UDP.
    public var `protocol`: TransportProtocol
    /// The port opened on the gateway's external address.
    public var externalPort: UInt16
    /// Empty: any remote host.
    public var remoteHost: String
    /// An IPv4 address, or "this-host" for a declared mapping that follows this machine's address.
    public var internalClient: String
    /// The port on the internal client the gateway forwards to.
    public var internalPort: UInt16
    /// Whether the gateway forwards through it.
    public var enabled: Bool
    /// The mapping's description on the gateway.
    public var description: String
    /// Seconds; 0 is permanent.
    public var leaseDuration: UInt32

    /// What the CLI and the registry call a declared mapping's "this host" client.
    public static let thisHost = "this-host"

    /// An entry of a gateway's table.
    public init(_ entry: PortMappingEntry) {
        self.protocol = entry.protocol
        externalPort = entry.externalPort
        remoteHost = entry.remoteHost
        internalClient = entry.internalClient
        internalPort = entry.internalPort
        enabled = entry.enabled
        description = entry.description
        leaseDuration = entry.leaseDuration
    }

    /// A declared mapping ("this-host" for a client that follows this machine).
    public init(_ mapping: DeclaredMapping) {
        self.protocol = mapping.key.protocol
        externalPort = mapping.key.externalPort
        remoteHost = mapping.key.remoteHost
        switch mapping.client {
        case .thisHost: internalClient = Self.thisHost
        case .address(let address): internalClient = address.description
        }
        internalPort = mapping.internalPort
        enabled = mapping.enabled
        description = mapping.description
        leaseDuration = mapping.leaseDuration
    }
}
