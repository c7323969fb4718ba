/// Who made a revision.
public enum RevisionActor: String, Sendable, Codable {
    case cli
    case watch
}

/// One thing a revision changed or found.
public struct Change: Hashable, Sendable, Codable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable {
        // The declaration.
        case declared, undeclared, redeclared
        // What portkeeper did on the gateway.
        case added, deleted, updated, replaced, failed, renewed
        // What portkeeper found on the gateway and did not make.
        case foundMissing = "found-missing"
        case foundChanged = "found-changed"
        case foundForeign = "found-foreign"
        case addressChanged = "address-changed"
        case gatewayMoved = "gateway-moved"
        case hostAddressChanged = "host-address-changed"
        case rolledBack = "rolled-back"
    }

    public var kind: Kind
    public var key: MappingKey?
    public var detail: String

    public init(_ kind: Kind, _ key: MappingKey? = nil, _ detail: String) {
        self.kind = kind
        self.key = key
        self.detail = detail
    }

    public var description: String {
        [kind.rawValue, key?.description, detail].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
    }
}
