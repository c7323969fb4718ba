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
        /// The gateway answers at a new description URL.
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

    /// A change of `kind` to `key`, described by `detail`.
    public init(_ kind: Kind, _ key: MappingKey? = nil, _ detail: String) {
        self.kind = kind
        self.key = key
        self.detail = detail
    }

    public var description: String {
        [kind.rawValue, key?.description, detail].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
    }
}
