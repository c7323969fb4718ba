import Foundation
import IGDClient
import IGDProtocol
import Logging
import MappingRegistry
import PortKeeperModel

/// The registry-backed use cases: declare, plan, reconcile, roll back.
///
/// Never holds a database transaction across network I/O: each registry call is its own short
/// transaction; the cross-process reconcile lock is a file lock, not a transaction. Finding a
/// gateway again is in Keeper+Gateways.swift; the reconcile itself in Reconcile/.
public struct Keeper: Sendable {
    /// The registry: gateways, declarations, revisions and the operations journal.
    public let registry: Registry
    /// Talks to gateways, with each request's timeouts and the command's deadline.
    public let client: GatewayClient
    /// Talks to PCP and NAT-PMP gateways (UDP 5351; tests point it at a fake). Its requests
    /// are bounded by ``client``'s limits and deadline.
    public var portControl = PortControlClient()
    /// The wall clock PCP/NAT-PMP grants and epochs are recorded with (tests inject one).
    public var wallClock: @Sendable () -> Date = { Date() }
    /// How the LAN is searched when the registry knows no gateway yet, or one must be found again by UDN.
    public var discovery: DiscoveryOptions
    /// Who acts: the CLI or `watch`.
    public var actor: RevisionActor
    /// The command line, for history.
    public var command: String
    /// How long a reconcile waits for another one to finish.
    public var lockWait: Duration = .seconds(30)
    /// Whether a reconcile extends the client's deadline by one request's time (the client's
    /// `limits.deadline`, 5 s unless the user asked for more) for each
    /// operation it plans (the CLI's default deadline); false when the user gave one.
    public var deadlineScalesWithWork = true
    /// How a recorded gateway's mappings are reached; nil: over UPnP IGD with ``client`` at the
    /// recorded control URL (``UPnPGateway``). Tests put an in-memory gateway here.
    public var mappingGateways: (@Sendable (GatewayRecord) throws -> any MappingGateway)?
    let logger: Logger

    /// A keeper over `registry`.
    /// - Parameters:
    ///   - registry: the registry to declare in and record to (`Registry(path:)`).
    ///   - client: talks to gateways; its limits bound each request.
    ///   - discovery: how the LAN is searched when a search is needed.
    ///   - actor: who the revisions are recorded as made by.
    ///   - command: the command line (or program name) history shows for each revision.
    ///   - logger: where the library logs what it sends and receives (debug and trace levels).
    public init(registry: Registry, client: GatewayClient = GatewayClient(), discovery: DiscoveryOptions = DiscoveryOptions(),
                actor: RevisionActor = .cli, command: String, logger: Logger = Logger(label: "portkeeper"))
    {
        self.registry = registry
        self.client = client
        self.discovery = discovery
        self.actor = actor
        self.command = command
        self.logger = logger
    }

    // MARK: Declaring

    /// Declares a mapping (or changes a declared one's description, lease or enabled state).
    /// - Returns: the new revision, or nil when the declaration already said exactly this.
    /// - Throws: ``PortKeeperError`` when the key is declared with another target.
    public func declare(_ mapping: DeclaredMapping, gatewayID: Int64) throws -> Int64? {
        try registry.changeDeclaration(gatewayID: gatewayID, command: command, actor: actor) { current in
            var declaration = current
            let change: Change
            if let index = declaration.firstIndex(where: { $0.key == mapping.key }) {
                let existing = declaration[index]
                if existing == mapping { return nil }
                guard existing.client == mapping.client && existing.internalPort == mapping.internalPort else {
                    throw PortKeeperError(.conflict, "\(mapping.key) is already declared for \(existing.client):\(existing.internalPort)",
                                          context: .alreadyDeclared(mapping.key))
                }
                declaration[index] = mapping
                change = Change(.redeclared, mapping.key, Self.describe(mapping), before: MappingState(existing), after: MappingState(mapping))
            } else {
                declaration.append(mapping)
                change = Change(.declared, mapping.key, Self.describe(mapping), after: MappingState(mapping))
            }
            return (declaration, [change], change.description)
        }
    }

    /// Removes a declared mapping.
    public func undeclare(_ key: MappingKey, gatewayID: Int64) throws -> Int64 {
        let revision: Int64 = try registry.changeDeclaration(gatewayID: gatewayID, command: command, actor: actor) { current in
            var declaration = current
            guard let index = declaration.firstIndex(where: { $0.key == key }) else {
                throw PortKeeperError(.notFound, "\(key) is not declared", context: .notDeclared)
            }
            let removed = declaration.remove(at: index)
            let change = Change(.undeclared, key, Self.describe(removed), before: MappingState(removed))
            return (declaration, [change], change.description)
        }
        return revision
    }

    static func describe(_ mapping: DeclaredMapping) -> String {
        var text = "→ \(mapping.client):\(mapping.internalPort)"
        if !mapping.description.isEmpty { text += " '\(mapping.description)'" }
        if mapping.leaseDuration > 0 { text += " lease \(mapping.leaseDuration) s" }
        if !mapping.enabled { text += " disabled" }
        return text
    }

    // MARK: Planning and reconciling

    /// What `plan` shows: the diff, what was found since the last reconcile, and the table read.
    public struct PlanReport: Sendable {
        /// The gateway, as recorded after reading it.
        public var gateway: GatewayRecord
        /// What a reconcile would do.
        public var plan: Plan
        /// The gateway's table as read (entries that make no sense left out).
        public var actual: [PortMappingEntry]
        /// What was found and not made: lost mappings, a new external address, a move.
        public var found: [Change]
        /// This host's address facing the gateway, which "this host" declarations resolve to.
        public var hostAddress: IPv4Address
        /// Entries of the gateway's table that make no sense: ignored, never acted on.
        public var ignored: [InvalidPortMappingEntry] = []
        /// What the planned declaration changes in the registry's (`plan -f`); empty otherwise.
        public var declarationChanges: [Change] = []
    }

    /// The diff between the declaration and the gateway, changing nothing anywhere.
    /// - Parameters:
    ///   - record: the gateway, as the registry holds it.
    ///   - options: whether others' entries would be pruned or replaced.
    ///   - proposed: a declaration to plan instead of the registry's (`plan -f`); the report
    ///     then says what replacing the registry's with it changes.
    public func plan(_ record: GatewayRecord, options: Planner.Options, proposed: [DeclaredMapping]? = nil) async throws -> PlanReport {
        let ((table, host), gateway, moves) = try await explaining("reading the mappings of \(record.friendlyName)") {
            try await withGateway(record) { _, gateway in (try await gateway.mappings(), try gateway.localAddress()) }
        }
        let actual = try table?.entries ?? registry.lastObservation(gatewayID: gateway.id) ?? []
        let registered = try registry.declarations(gatewayID: gateway.id)
        let declared = proposed ?? registered
        let owned = try registry.ownedKeys(gatewayID: gateway.id)
        let plan = Planner.plan(declared: declared, actual: actual, owned: owned, hostAddress: host,
                                permanentLeasesOnly: gateway.permanentLeasesOnly, descriptionLimit: gateway.descriptionLimit, options: options)
        let found = moves + (try foundChanges(gateway: gateway, actual: actual, owned: owned, declared: registered, host: host))
        return PlanReport(gateway: gateway, plan: plan, actual: actual, found: found, hostAddress: host, ignored: table?.invalid ?? [],
                          declarationChanges: proposed.map { Self.declarationChanges(from: registered, to: $0) } ?? [])
    }

    /// Makes the gateway match the declaration: plan, act, read back, record.
    /// One at a time per registry, across processes.
    /// - Parameters:
    ///   - record: the gateway, as the registry holds it (found again by UDN if it moved).
    ///   - options: whether others' entries are pruned (`prune`) or replaced when they hold a
    ///     declared port (`force`).
    ///   - existing: an existing revision to attach the work to (add, remove, rollback).
    ///   - foreignEntries: entries of other programs to re-create (rollback).
    ///   - shouldStop: asked before each operation; when it says yes the rest are skipped and
    ///     the journal and revision are completed with what was done (SIGTERM in `watch`).
    ///   - rediscover: look for the gateway by UDN when its stored URL does not answer (off
    ///     when it just said it is leaving: it will announce where it is when it is back).
    ///   - progress: told the operations planned, then each as it starts and as it ends, while
    ///     the reconcile works (``ReconcileEvent``); called on the reconcile's own task.
    public func reconcile(_ record: GatewayRecord, options: Planner.Options, revision existing: Int64? = nil,
                          restoring foreignEntries: [PortMappingEntry] = [], rediscover: Bool = true,
                          shouldStop: @escaping @Sendable () -> Bool = { false },
                          progress: @escaping @Sendable (ReconcileEvent) -> Void = { _ in }) async throws -> ReconcileReport {
        try await registry.withExclusiveLock(waitingAtMost: lockWait, activity: activity) {
            var reconciliation = try Reconciliation(keeper: self, reading: try await read(record, rediscover: rediscover), options: options,
                                                    revision: existing, restoring: foreignEntries, shouldStop: shouldStop, progress: progress)
            return try await reconciliation.run()
        }
    }

    // MARK: Rollback

    /// Restores the declaration as it was right after `revision`, as a new revision, and
    /// unless `apply` is false reconciles, re-creating the entries of other programs that
    /// `--prune` or `--force` deleted since.
    public func rollback(to revision: Int64, apply: Bool,
                         progress: @escaping @Sendable (ReconcileEvent) -> Void = { _ in }) async throws -> (revision: Int64, report: ReconcileReport?) {
        guard let gatewayID = try registry.revisionGateway(revision) else {
            throw PortKeeperError(.notFound, "revision \(revision) concerns no gateway", context: .revisionWithoutGateway)
        }
        guard let record = try registry.gateway(id: gatewayID) else { throw PortKeeperError(.registry, "the gateway of revision \(revision) is gone from the registry") }
        let target = try registry.declaration(afterRevision: revision, gatewayID: gatewayID)
        let foreign = try registry.foreignEntriesDeleted(afterRevision: revision, gatewayID: gatewayID)
        let newRevision: Int64 = try registry.changeDeclaration(gatewayID: gatewayID, command: command, actor: actor) { current in
            let changes = [Change(.rolledBack, nil, "declaration restored to revision \(revision)")] + Self.declarationChanges(from: current, to: target)
            return (target, changes, "rollback to revision \(revision)")
        }
        guard apply else { return (newRevision, nil) }
        let report = try await reconcile(record, options: Planner.Options(), revision: newRevision, restoring: foreign, progress: progress)
        return (newRevision, report)
    }
}
