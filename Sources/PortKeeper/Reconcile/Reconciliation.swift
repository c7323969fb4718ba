import IGDClient
import IGDProtocol
import MappingRegistry
import PortKeeperModel

/// One reconcile of one gateway, from the table just read to the revision recorded:
/// plan → act → read back → record (``run()``).
///
/// Every operation goes through ``perform(_:_:reason:before:)``, which journals it, sends it
/// and completes the journal. Once the gateway stops answering (a timeout, a refused
/// connection, the command's deadline), nothing more is sent: the rest are journaled as not
/// sent. An operation whose outcome was never learned is resolved by reading the gateway,
/// never by replaying it. Used once, under the registry's reconcile lock.
struct Reconciliation {
    /// What was read before planning: the gateway (found again if it moved) and its table.
    struct Reading {
        var record: GatewayRecord
        var gateway: any MappingGateway
        /// Nil when the gateway cannot list: the registry's last observation stands in.
        var table: PortMappingTable?
        var externalAddress: ExternalAddress?
        /// The gateway found on a new URL.
        var moves: [Change]
    }

    /// One operation on the gateway; a step is one or two that belong together (a replacement
    /// or an update is a delete and an add), and a stop request is honoured between steps.
    enum Operation: Equatable {
        case delete(PortMappingEntry, DeleteReason)
        case add(PortMappingEntry, Change.Kind, foreign: Bool)
    }

    let keeper: Keeper
    let record: GatewayRecord
    var gateway: any MappingGateway
    let options: Planner.Options
    let foreignEntries: [PortMappingEntry]
    let shouldStop: @Sendable () -> Bool
    /// Told each operation as it starts and ends (``ReconcileEvent``).
    let progress: @Sendable (ReconcileEvent) -> Void

    // What was found.
    /// The table as read before acting (entries that make no sense kept apart in `ignored`).
    let actual: [PortMappingEntry]
    let ignored: [InvalidPortMappingEntry]
    /// Changes portkeeper did not make: a move, a new external address, entries lost or changed.
    var found: [Change]
    /// Operations of earlier runs whose outcome was learned now, by reading.
    var resolved: [Change] = []
    var declared: [DeclaredMapping] = []
    let host: IPv4Address
    /// Learned from 725 (or 402 to a lease): the gateway takes lease 0 only.
    var permanentOnly: Bool

    // What was done.
    var revision: Int64?
    var done: [Change] = []
    var failures: [(key: MappingKey, error: PortKeeperError)] = []
    /// Entries of other programs a rollback could not re-create, with why.
    var unrestored: [(entry: PortMappingEntry, outcome: String)] = []
    /// Descriptions sent, by key: a gateway keeping only their start shows its limit.
    var written: [MappingKey: String] = [:]
    /// The table as portkeeper's own operations left it: the read-back of a gateway that cannot list.
    var believed: [MappingKey: PortMappingEntry]
    /// Why the gateway is taken to have stopped answering; nothing more is sent once set.
    var unreachable: (any Error)?
    var notSent: [MappingKey] = []
    var stopped = false
    /// What became of each planned operation, in order.
    var operations: [OperationReport] = []

    var registry: Registry { keeper.registry }
    /// The revision the work is recorded in: the caller's, or the one ``begin(operations:)``
    /// opened before anything is sent.
    var openRevision: Int64 { revision! }

    init(keeper: Keeper, reading: Reading, options: Planner.Options, revision: Int64?,
         restoring foreignEntries: [PortMappingEntry], shouldStop: @escaping @Sendable () -> Bool,
         progress: @escaping @Sendable (ReconcileEvent) -> Void = { _ in }) throws {
        self.keeper = keeper
        self.record = reading.record
        self.gateway = reading.gateway
        self.options = options
        self.revision = revision
        self.foreignEntries = foreignEntries
        self.shouldStop = shouldStop
        self.progress = progress
        actual = try reading.table?.entries ?? keeper.registry.lastObservation(gatewayID: reading.record.id) ?? []
        ignored = reading.table?.invalid ?? []
        believed = Dictionary(actual.map { (MappingKey($0), $0) }, uniquingKeysWith: { first, _ in first })
        found = reading.moves
        if let address = reading.externalAddress, let change = try keeper.registry.recordAddress(gatewayID: reading.record.id, address) {
            found.append(change)
        }
        host = try reading.gateway.localAddress()
        permanentOnly = reading.record.permanentLeasesOnly
    }

    /// Plan, act, read back, record.
    mutating func run() async throws -> Keeper.ReconcileReport {
        try resolveUnfinished()
        var plan = try makePlan()
        if gateway is PortControlGateway { try await verify(&plan) }
        let restore = foreignEntries.filter { entry in !actual.contains { MappingKey($0) == MappingKey(entry) } }
        if !plan.hasWork && restore.isEmpty && found.isEmpty && resolved.isEmpty && revision == nil {
            return try recordInSync(plan)
        }
        try begin(operations: plan.changeCount + plan.updates.count + plan.renewals.count + restore.count)
        try await act(Self.steps(plan, restoring: restore, table: actual))
        if let unreachable { return try recordUnreachable(plan, unreachable) }
        let after = try await readBack()
        return try recordReadBack(plan, after: after)
    }

    // MARK: Plan

    /// An operation whose outcome was never learned is resolved by reading, not replayed.
    mutating func resolveUnfinished() throws {
        for operation in try registry.unresolvedOperations(gatewayID: record.id) {
            let outcome = Self.outcomeByReading(operation, table: actual)
            try registry.journalOutcome(operation.id, outcome)
            keeper.logger.info("operation \(operation.id) (\(operation.action.rawValue) \(operation.key)) resolved as \(outcome) by reading the gateway")
            resolved.append(Change(.foundChanged, operation.key,
                                   "unfinished \(operation.action.rawValue) of revision \(operation.revision) resolved as \(outcome) by reading the gateway"))
        }
    }

    mutating func makePlan() throws -> Plan {
        declared = try registry.declarations(gatewayID: record.id)
        let owned = try registry.ownedKeys(gatewayID: record.id)
        found += try keeper.foundChanges(gateway: record, actual: actual, owned: owned, declared: declared, host: host)
        return Planner.plan(declared: declared, actual: actual, owned: owned, hostAddress: host,
                            permanentLeasesOnly: permanentOnly, descriptionLimit: record.descriptionLimit, options: options)
    }

    /// PCP and NAT-PMP cannot list: every declared mapping the registry says is there is asked
    /// for again with its nonce, which verifies and renews it at once (a MAP with the same nonce
    /// is idempotent and answers the current lifetime and external port). Renewals are not
    /// history: nothing is journaled and no revision is made, unless the answer shows a change
    /// (another external port), which is recorded as found. Replaces the plan's renewals.
    mutating func verify(_ plan: inout Plan) async throws {
        let planned = Set(plan.adds.map(\.declared.key) + plan.updates.map(\.declared.key) + plan.conflicts.map(\.declared.key)
            + plan.replacements.map(\.declared.key))
        let inSync = declared.filter { !planned.contains($0.key) && believed[$0.key] != nil }.sorted { $0.key < $1.key }
        plan.renewals = []
        guard !inSync.isEmpty, var gateway = gateway as? PortControlGateway else { return }
        if keeper.deadlineScalesWithWork { gateway = gateway.extendingDeadline(by: keeper.client.limits.deadline * inSync.count) }
        for mapping in inSync {
            if shouldStop() { stopped = true; return }
            let before = try registry.portControlMapping(gatewayID: record.id, key: mapping.key)
            do {
                let grant = try await gateway.grant(mapping.entry(hostAddress: host))
                if let was = before?.assignedExternalPort, was != grant.externalPort {
                    found.append(Change(.foundChanged, mapping.key, "the gateway now maps external port \(grant.externalPort) (it was \(was))"))
                }
            } catch {
                if Self.meansUnreachable(error) {
                    throw Failure.explain(error, doing: "renewing \(mapping.key) on \(record.friendlyName)")
                }
                failures.append((mapping.key, Failure.explain(error, doing: "renewing \(mapping.key) on \(record.friendlyName)")))
                found.append(Change(.foundChanged, mapping.key, "the renewal was refused: \(Failure.explain(error, doing: "renewing").message)"))
            }
        }
        self.gateway = gateway
    }

    /// When the first PCP/NAT-PMP mapping is due for renewal, or, over UPnP IGD, the first lease.
    func nextRenewal(_ table: [PortMappingEntry]) throws -> Duration? {
        gateway is PortControlGateway ? try keeper.portControlRenewal(record) : Keeper.nextRenewal(declared: declared, table: table)
    }

    /// One planned operation and what is sent for it.
    struct Step {
        var planned: PlannedOperation
        var operations: [Operation]
    }

    /// The steps of a plan, in the order they are sent: deletes first, so that a port freed
    /// is free before it is asked for again.
    static func steps(_ plan: Plan, restoring restore: [PortMappingEntry], table: [PortMappingEntry]) -> [Step] {
        let current = Dictionary(table.map { (MappingKey($0), $0) }, uniquingKeysWith: { first, _ in first })
        func step(_ kind: PlannedOperation.Kind, _ key: MappingKey, before: PortMappingEntry?, after: PortMappingEntry?, _ reason: String,
                  _ operations: [Operation]) -> Step {
            Step(planned: PlannedOperation(kind: kind, key: key, before: before.map(MappingState.init), after: after.map(MappingState.init), reason: reason),
                 operations: operations)
        }
        var steps = plan.deletes.map { delete in
            step(.delete, MappingKey(delete.current), before: delete.current, after: nil, delete.reason.rawValue,
                 [.delete(delete.current, delete.reason == .pruned ? .pruned : .noLongerDeclared)])
        }
        steps += plan.replacements.map {
            step(.replace, $0.declared.key, before: $0.holder, after: $0.entry, "held by another client (--force)",
                 [.delete($0.holder, .replaced), .add($0.entry, .replaced, foreign: false)])
        }
        // An update is a delete and an add: gateways refuse to move a mapping to another client
        // (718), and miniupnpd 2.3.1 answers an AddPortMapping over an existing entry with
        // success but keeps its old description and internal port.
        steps += plan.updates.map {
            step(.update, $0.declared.key, before: $0.current, after: $0.entry, $0.differences.joined(separator: ", "),
                 [.delete($0.current, .moved), .add($0.entry, .updated, foreign: false)])
        }
        steps += plan.adds.map { step(.add, $0.declared.key, before: nil, after: $0.entry, "declared, missing", [.add($0.entry, .added, foreign: false)]) }
        steps += plan.renewals.map {
            step(.renew, $0.declared.key, before: current[$0.declared.key], after: $0.entry, "lease past half its length", [.add($0.entry, .renewed, foreign: false)])
        }
        steps += restore.map { step(.restore, MappingKey($0), before: nil, after: $0, "another program's entry, deleted since", [.add($0, .added, foreign: true)]) }
        return steps
    }

    // MARK: Act

    /// Opens the revision the work is recorded in (unless the caller gave one), and gives the
    /// command's deadline each operation's own request time.
    mutating func begin(operations: Int) throws {
        if keeper.deadlineScalesWithWork {
            gateway = gateway.extendingDeadline(by: keeper.client.limits.deadline * operations)
        }
        if revision == nil {
            revision = try registry.beginRevision(command: keeper.command, actor: keeper.actor, gatewayID: record.id, changes: [], summary: "reconcile")
        }
    }

    /// Sends each step in turn, telling ``progress`` as each starts and ends; a stop request
    /// is honoured between steps (the rest are reported as not attempted).
    mutating func act(_ steps: [Step]) async throws {
        progress(.planned(steps.map(\.planned), found: found + resolved))
        for (index, step) in steps.enumerated() {
            if stopped || shouldStop() {
                stopped = true
                operations.append(OperationReport(operation: step.planned, status: .notAttempted))
                continue
            }
            progress(.started(step.planned, index: index + 1, total: steps.count))
            let (doneBefore, failuresBefore, notSentBefore) = (done.count, failures.count, notSent.count)
            for operation in step.operations {
                switch operation {
                case .delete(let entry, let reason): try await delete(entry, reason: reason)
                case .add(let entry, let kind, let foreign): try await add(entry, kind: kind, foreign: foreign)
                }
            }
            let changes = Array(done[doneBefore...])
            let status: OperationReport.Status
            if notSent.count > notSentBefore && !changes.contains(where: { $0.kind != .failed }) && failures.count == failuresBefore {
                status = .notAttempted
            } else if changes.contains(where: { $0.kind == .failed }) || failures.count > failuresBefore {
                status = .failed
            } else {
                status = .done
            }
            let report = OperationReport(operation: step.planned, status: status, changes: changes,
                                         error: failures.count > failuresBefore ? failures.last?.error : nil)
            operations.append(report)
            progress(.finished(report, index: index + 1, total: steps.count))
        }
    }

    /// Journals one operation, sends it (unless the gateway has stopped answering) and
    /// completes the journal with its outcome. A failure is explained once, in `failures`.
    /// - Parameter entry: for an add, the entry sent; for a delete, the entry removed.
    /// - Returns: the outcome, or nil when it was not sent (journaled as such).
    mutating func perform(_ action: OperationAction, _ entry: PortMappingEntry, reason: DeleteReason? = nil,
                          before: PortMappingEntry?) async throws -> OperationOutcome? {
        let key = MappingKey(entry)
        let id = try registry.journalIntent(revision: openRevision, gatewayID: record.id, action: action, key: key,
                                            entry: action == .add ? entry : nil, deleteReason: reason, before: before)
        guard unreachable == nil else {
            try registry.journalOutcome(id, .failed(Keeper.notSentReason))
            notSent.append(key)
            done.append(Change(.failed, key, "\(action.rawValue) \(Keeper.notSentReason)", before: before.map(MappingState.init),
                               after: action == .add ? MappingState(entry) : nil))
            return nil
        }
        let (outcome, error) = await Self.outcome(of: action, entry, on: gateway)
        if let error {
            if Self.meansUnreachable(error) { unreachable = error }
            failures.append((key, Failure.explain(error, doing: "\(action.rawValue) \(key) on \(record.friendlyName)")))
        }
        try complete(id, outcome, action: action.rawValue, key: key)
        if outcome == .ok {
            believed[key] = action == .add ? entry : nil
            if action == .add { written[key] = entry.description }
        }
        return outcome
    }

    mutating func delete(_ entry: PortMappingEntry, reason: DeleteReason) async throws {
        let key = MappingKey(entry)
        guard let outcome = try await perform(.delete, entry, reason: reason, before: entry) else { return }
        if outcome == .upnp(UPnPError.noSuchEntryInArray) {
            // 714 on a delete: the mapping is already gone, so it is no longer portkeeper's.
            failures.removeLast()
            believed[key] = nil
            try registry.setOwned(key, gatewayID: record.id, revision: openRevision, owned: false)
            done.append(Change(.deleted, key, "already gone from the gateway (it answered \(Failure.fault(UPnPError.noSuchEntryInArray))); no longer recorded as portkeeper's",
                               before: MappingState(entry)))
            return
        }
        done.append(outcome == .ok ? Change(.deleted, key, "\(entry.internalClient):\(entry.internalPort) '\(entry.description)' (\(reason.rawValue))",
                                            before: MappingState(entry))
                                   : Change(.failed, key, "DeletePortMapping: \(Failure.outcome(outcome))", before: MappingState(entry)))
    }

    mutating func add(_ wanted: PortMappingEntry, kind: Change.Kind, foreign: Bool) async throws {
        var entry = wanted
        if permanentOnly { entry.leaseDuration = 0 }
        let key = MappingKey(entry)
        let before = actual.first { MappingKey($0) == key }
        guard var outcome = try await perform(.add, entry, before: before) else {
            if foreign { unrestored.append((entry, Keeper.notSentReason)) }
            return
        }
        // 725 OnlyPermanentLeasesSupported, or 402 for a lease the gateway will not take:
        // retry with a permanent lease, and remember it for this gateway.
        if case .upnp(let code) = outcome, entry.leaseDuration != 0,
           code == UPnPError.onlyPermanentLeasesSupported || code == UPnPError.invalidArgs {
            failures.removeLast()
            permanentOnly = true
            try registry.learn(gatewayID: record.id, permanentLeasesOnly: true)
            entry.leaseDuration = 0
            guard let retried = try await perform(.add, entry, before: before) else { return }
            outcome = retried
            done.append(Change(.updated, key, "the gateway accepts permanent leases only (\(Failure.fault(code))); lease set to 0",
                               before: MappingState(wanted), after: MappingState(entry)))
        }
        if foreign && outcome == .ok {
            // Re-created for another program: still not portkeeper's.
            try registry.setOwned(key, gatewayID: record.id, revision: openRevision, owned: false)
        } else if foreign {
            unrestored.append((entry, Failure.outcome(outcome)))
        }
        var granted = ""
        if outcome == .ok, gateway is PortControlGateway, let port = try registry.portControlMapping(gatewayID: record.id, key: key)?.assignedExternalPort,
           port != key.externalPort {
            granted = " (the gateway assigned external port \(port))"
        }
        done.append(outcome == .ok ? Change(kind, key, "→ \(entry.internalClient):\(entry.internalPort) '\(entry.description)'" + granted + (foreign ? " (re-created for another program)" : ""),
                                            before: before.map(MappingState.init), after: MappingState(entry))
                                   : Change(.failed, key, "AddPortMapping: \(Failure.outcome(outcome))", before: before.map(MappingState.init), after: MappingState(entry)))
    }

    // MARK: Read back and record

    /// What is true now, not what was hoped: the table read again (or, from a gateway that
    /// cannot list, as portkeeper's operations left it), which also settles any outcome not
    /// learned while acting.
    mutating func readBack() async throws -> PortMappingTable {
        let gateway = self.gateway
        let read = try await keeper.explaining("reading back the mappings of \(record.friendlyName)") { try await gateway.mappings() }
        let table = read ?? PortMappingTable(entries: believed.values.sorted { MappingKey($0) < MappingKey($1) }, method: .listOfPortMappings)
        for operation in try registry.unresolvedOperations(gatewayID: record.id) {
            try registry.journalOutcome(operation.id, Self.outcomeByReading(operation, table: table.entries))
        }
        try registry.recordObservation(gatewayID: record.id, entries: table.entries)
        return table
    }

    /// In sync: nothing is written but the time the gateway was seen (and the table, if it
    /// changed in ways that need no action, such as a new foreign entry).
    func recordInSync(_ plan: Plan) throws -> Keeper.ReconcileReport {
        try registry.touchGateway(record.id)
        try registry.recordObservation(gatewayID: record.id, entries: actual)
        return Keeper.ReconcileReport(gateway: record, revision: nil, plan: plan, changes: [], inSync: plan.isInSync, remaining: plan,
                                      nextRenewal: try nextRenewal(actual), ignored: ignored)
    }

    /// The gateway stopped answering: not read back either. What was sent and not answered is
    /// resolved by reading at the next reconcile.
    func recordUnreachable(_ plan: Plan, _ unreachable: any Error) throws -> Keeper.ReconcileReport {
        let changes = found + resolved + done
        try registry.completeRevision(openRevision, adding: changes, summary: Change.summary(of: changes, inSync: false))
        let why = Failure.explain(unreachable, doing: "reconciling \(record.friendlyName)")
        let error = PortKeeperError(
            why.kind, why.message + (notSent.isEmpty ? "" : "; \(notSent.count) operation\(notSent.count == 1 ? " was" : "s were") not sent"),
            context: .reconcileInterrupted)
        return Keeper.ReconcileReport(gateway: record, revision: revision, plan: plan, changes: changes, inSync: false, remaining: plan,
                                      unrestored: unrestored, nextRenewal: nil, stopped: stopped, unreachable: error,
                                      notSent: notSent, failures: failures, ignored: ignored, found: found + resolved, operations: operations)
    }

    func recordReadBack(_ plan: Plan, after table: PortMappingTable) throws -> Keeper.ReconcileReport {
        let owned = try registry.ownedKeys(gatewayID: record.id)
        let remaining = Planner.plan(declared: declared, actual: table.entries, owned: owned, hostAddress: host,
                                     permanentLeasesOnly: permanentOnly, descriptionLimit: try learnDescriptionLimit(table.entries),
                                     options: Planner.Options(prune: options.prune))
        let changes = found + resolved + done
        try registry.completeRevision(openRevision, adding: changes, summary: Change.summary(of: changes, inSync: remaining.isInSync))
        return Keeper.ReconcileReport(gateway: record, revision: revision, plan: plan, changes: changes, inSync: remaining.isInSync,
                                      remaining: remaining, unrestored: unrestored,
                                      nextRenewal: try nextRenewal(table.entries), stopped: stopped,
                                      failures: failures, ignored: table.invalid, found: found + resolved, operations: operations)
    }

    /// A description the gateway kept only the start of tells its limit: learned once, so
    /// that the mapping converges after one write.
    func learnDescriptionLimit(_ after: [PortMappingEntry]) throws -> Int? {
        var limit = record.descriptionLimit
        for entry in after {
            guard let sent = written[MappingKey(entry)], let shown = Planner.learnedDescriptionLimit(written: sent, kept: entry.description) else { continue }
            limit = min(limit ?? shown, shown)
        }
        if limit != record.descriptionLimit, let limit {
            try registry.learn(gatewayID: record.id, descriptionLimit: limit)
        }
        return limit
    }

    /// Completes an operation journaled and sent. When the registry cannot record it (the disk
    /// full, the file made read-only meanwhile) the operation stays pending in the journal, so
    /// the next reconcile resolves it by reading the gateway; the error says so.
    func complete(_ id: Int64, _ outcome: OperationOutcome, action: String, key: MappingKey) throws {
        do {
            try registry.journalOutcome(id, outcome)
        } catch let error as RegistryError {
            throw RegistryError.outcomeNotRecorded(operation: "\(action) \(key)", cause: error)
        }
    }
}
