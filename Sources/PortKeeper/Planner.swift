import IGDProtocol
import PortKeeperModel

/// What the gateway should be made to do, and what is left alone: the diff between the
/// declaration and the gateway's table.
public struct Plan: Sendable, Equatable {
    /// A declared mapping the gateway lacks.
    public struct Add: Sendable, Equatable {
        /// The declaration it comes from.
        public var declared: DeclaredMapping
        /// The entry to write, with this host resolved.
        public var entry: PortMappingEntry
    }

    /// A declared mapping the gateway has wrong (client, internal port, enabled, description).
    public struct Update: Sendable, Equatable {
        /// The declaration it comes from.
        public var declared: DeclaredMapping
        /// The entry to write, with this host resolved.
        public var entry: PortMappingEntry
        /// The entry as the gateway lists it now.
        public var current: PortMappingEntry
        /// What differs, in words ("client 192.168.1.5 → 192.168.1.7").
        public var differences: [String]
    }

    /// An entry to remove from the gateway.
    public struct Delete: Sendable, Equatable {
        /// Why an entry goes: portkeeper created it and it is no longer declared, or `prune` was asked for.
        public enum Reason: String, Sendable { case noLongerDeclared = "no longer declared", pruned = "not declared (--prune)" }
        /// The entry as the gateway lists it now.
        public var current: PortMappingEntry
        /// Why it goes.
        public var reason: Reason
    }

    /// A declared port held by another client.
    public struct Conflict: Sendable, Equatable {
        /// The declaration it comes from.
        public var declared: DeclaredMapping
        /// The entry to write, with this host resolved.
        public var entry: PortMappingEntry
        /// The entry of the other client that holds the port now.
        public var holder: PortMappingEntry
    }

    /// Declared mappings to write.
    public var adds: [Add] = []
    /// Declared mappings to write again, as they differ.
    public var updates: [Update] = []
    /// Entries to remove.
    public var deletes: [Delete] = []
    /// Declared ports held by another client: replaced only with `--force` (then listed in `replacements`).
    public var conflicts: [Conflict] = []
    /// Conflicts `--force` will replace: the holder is deleted and the declared entry added.
    public var replacements: [Conflict] = []
    /// Entries portkeeper did not create and leaves alone.
    public var foreign: [PortMappingEntry] = []
    /// Declared mappings in sync whose lease is past half its length: written again to renew it.
    public var renewals: [Add] = []

    /// Nothing to do and nothing blocked.
    public var isInSync: Bool { adds.isEmpty && updates.isEmpty && deletes.isEmpty && conflicts.isEmpty && replacements.isEmpty }
    /// Changes the gateway would see.
    public var changeCount: Int { adds.count + updates.count + deletes.count + replacements.count }
    /// Anything to write to the gateway, renewals included.
    public var hasWork: Bool { changeCount > 0 || !renewals.isEmpty }
}

/// The diff itself: a pure function of the declaration, the gateway's table and what
/// portkeeper owns there.
public enum Planner {
    /// How far a reconcile may go with entries portkeeper did not create.
    public struct Options: Sendable, Equatable {
        /// Also delete entries portkeeper did not create.
        public var prune = false
        /// Replace entries of other clients that hold a declared port.
        public var force = false
        /// Options leaving others' entries alone unless `prune` or `force` says otherwise.
        public init(prune: Bool = false, force: Bool = false) {
            self.prune = prune
            self.force = force
        }
    }

    /// - Parameters:
    ///   - declared: the declared mappings of this gateway.
    ///   - actual: the gateway's table as just read.
    ///   - owned: the keys of the entries portkeeper created on this gateway.
    ///   - hostAddress: this machine's address facing the gateway ("this host").
    ///   - permanentLeasesOnly: the gateway accepts lease 0 only (learned from 725).
    ///   - descriptionLimit: how many bytes of a description the gateway keeps (learned).
    ///   - options: whether others' entries are deleted (`prune`) or replaced (`force`).
    ///
    /// An entry that makes no sense (`PortMappingEntry.problems`) is ignored: never deleted,
    /// never named as holding a declared port.
    public static func plan(
        declared: [DeclaredMapping], actual: [PortMappingEntry], owned: Set<MappingKey>,
        hostAddress: IPv4Address, permanentLeasesOnly: Bool = false, descriptionLimit: Int? = nil, options: Options = Options()
    ) -> Plan {
        let actual = actual.filter { $0.problems.isEmpty }
        var plan = Plan()
        var actualByKey: [MappingKey: PortMappingEntry] = [:]
        for entry in actual where actualByKey[MappingKey(entry)] == nil {
            actualByKey[MappingKey(entry)] = entry
        }
        let declaredKeys = Set(declared.map(\.key))

        for mapping in declared.sorted(by: { $0.key < $1.key }) {
            var entry = mapping.entry(hostAddress: hostAddress)
            if permanentLeasesOnly { entry.leaseDuration = 0 }
            guard let current = actualByKey[mapping.key] else {
                plan.adds.append(.init(declared: mapping, entry: entry))
                continue
            }
            let sameClient = current.internalClient == entry.internalClient
            if !sameClient && !owned.contains(mapping.key) {
                let conflict = Plan.Conflict(declared: mapping, entry: entry, holder: current)
                if options.force { plan.replacements.append(conflict) } else { plan.conflicts.append(conflict) }
                continue
            }
            let differences = differences(wanted: entry, current: current, descriptionLimit: descriptionLimit)
            if !differences.isEmpty {
                plan.updates.append(.init(declared: mapping, entry: entry, current: current, differences: differences))
            } else if let due = renewalDue(declaredLease: entry.leaseDuration, current: current), due == .zero {
                plan.renewals.append(.init(declared: mapping, entry: entry))
            }
        }

        for entry in actual.sorted(by: { MappingKey($0) < MappingKey($1) }) where !declaredKeys.contains(MappingKey(entry)) {
            if owned.contains(MappingKey(entry)) {
                plan.deletes.append(.init(current: entry, reason: .noLongerDeclared))
            } else if options.prune {
                plan.deletes.append(.init(current: entry, reason: .pruned))
            } else {
                plan.foreign.append(entry)
            }
        }
        return plan
    }

    /// How `current` differs from `wanted`, ignoring what gateways normalise: leases (they
    /// count down, and IGDv2 turns 0 into 604800) and descriptions the router truncated.
    static func differences(wanted: PortMappingEntry, current: PortMappingEntry, descriptionLimit: Int? = nil) -> [String] {
        var differences: [String] = []
        if current.internalClient != wanted.internalClient {
            differences.append("client \(current.internalClient.isEmpty ? "none" : current.internalClient) → \(wanted.internalClient)")
        }
        if current.internalPort != wanted.internalPort {
            differences.append("internal port \(current.internalPort) → \(wanted.internalPort)")
        }
        if current.enabled != wanted.enabled {
            differences.append(wanted.enabled ? "disabled → enabled" : "enabled → disabled")
        }
        if !descriptionMatches(wanted: wanted.description, current: current.description, limit: descriptionLimit) {
            differences.append("description '\(current.description)' → '\(wanted.description)'")
        }
        return differences
    }

    /// The longest lease IGDv2 grants, and what it turns a permanent (0) lease into.
    public static let maximumLease: UInt32 = 604_800

    /// How long until a mapping should be renewed: at half its lease, measured from what the
    /// gateway says is left. Nil when it never expires (the gateway reports 0).
    /// - Parameters:
    ///   - declaredLease: the lease asked for; 0 on an IGDv2 gateway means 604800.
    ///   - current: the mapping as the gateway lists it now.
    public static func renewalDue(declaredLease: UInt32, current: PortMappingEntry) -> Duration? {
        guard current.leaseDuration > 0 else { return nil }
        let length = declaredLease > 0 ? declaredLease : maximumLease
        let half = length / 2
        return current.leaseDuration <= half ? .zero : .seconds(Int(current.leaseDuration - half))
    }

    /// Routers truncate descriptions (to 11, 32 or 64 bytes…). Once the gateway's limit is
    /// known, a description cut at it counts as equal; a shorter prefix does not (a renamed
    /// "game" → "game, renamed" must still be sent).
    public static func descriptionMatches(wanted: String, current: String, limit: Int?) -> Bool {
        if current == wanted { return true }
        guard let limit, !current.isEmpty, Array(wanted.utf8).starts(with: current.utf8) else { return false }
        // The cut may fall inside a multi-byte character, which the gateway then drops whole.
        return current.utf8.count >= limit - 3
    }

    /// The limit a gateway showed by keeping only `kept` of the `written` description, if it did.
    public static func learnedDescriptionLimit(written: String, kept: String) -> Int? {
        guard kept != written, !kept.isEmpty, Array(written.utf8).starts(with: kept.utf8) else { return nil }
        return kept.utf8.count
    }
}
