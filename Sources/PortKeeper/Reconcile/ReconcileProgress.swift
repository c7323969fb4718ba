import IGDProtocol
import PortKeeperModel

/// One change a reconcile makes on the gateway, as planned: what a user would call one
/// operation ("update 8080/tcp"), even where the wire needs two (a delete and an add).
public struct PlannedOperation: Sendable, Equatable {
    /// What the operation does to the gateway's entry.
    public enum Kind: String, Sendable, CaseIterable {
        /// A declared mapping the gateway lacks, added.
        case add
        /// A declared mapping the gateway holds otherwise, deleted and added as declared.
        case update
        /// An entry no longer declared (or pruned), deleted.
        case delete
        /// The port held by another client taken over (`--force`): its entry deleted, ours added.
        case replace
        /// A lease past half its length, asked for again.
        case renew
        /// An entry of another program re-created (rollback).
        case restore
    }

    /// What it does.
    public var kind: Kind
    /// The mapping it concerns.
    public var key: MappingKey
    /// The entry on the gateway before, if any.
    public var before: MappingState?
    /// The entry the operation asks for; nil for a delete.
    public var after: MappingState?
    /// Why, in a few words: "no longer declared", "internal port 80 → 8080".
    public var reason: String

    /// An operation of `kind` on `key`, from `before` to `after`, for `reason`.
    public init(kind: Kind, key: MappingKey, before: MappingState?, after: MappingState?, reason: String) {
        self.kind = kind
        self.key = key
        self.before = before
        self.after = after
        self.reason = reason
    }
}

/// What became of one planned operation.
public struct OperationReport: Sendable {
    /// Where the operation ended.
    public enum Status: String, Sendable, CaseIterable {
        /// Not sent: a dry run.
        case planned
        /// Sent, and the gateway did what was asked.
        case done
        /// Sent, and the gateway refused it or its outcome was not what was asked.
        case failed
        /// Never sent: the gateway had stopped answering, or a stop was asked for first.
        case notAttempted = "not-attempted"
    }

    /// The operation as planned.
    public var operation: PlannedOperation
    /// Where it ended.
    public var status: Status
    /// What it changed, as the revision records it (empty when planned; for one not attempted,
    /// that it was not sent).
    public var changes: [Change]
    /// Why it failed, when it did and the gateway said why.
    public var error: PortKeeperError?

    /// A report that `operation` ended as `status`, with what it changed and why it failed.
    public init(operation: PlannedOperation, status: Status, changes: [Change] = [], error: PortKeeperError? = nil) {
        self.operation = operation
        self.status = status
        self.changes = changes
        self.error = error
    }
}

/// What a reconcile tells while it works, in order: the operations it is about to send
/// (``planned(_:found:)``), then each as it starts and as it ends. The library never prints; a front end
/// shows these as they come (the CLI: a line per operation, a progress line on a terminal).
public enum ReconcileEvent: Sendable {
    /// The operations about to be sent, in order, and what was found on the gateway that
    /// portkeeper did not do (told once, before any operation).
    case planned([PlannedOperation], found: [Change])
    /// Operation `index` (from 1) of `total` is being sent.
    case started(PlannedOperation, index: Int, total: Int)
    /// Operation `index` of `total` is over.
    case finished(OperationReport, index: Int, total: Int)
}

extension Keeper {
    /// The operations a plan makes, in the order a reconcile sends them: deletes first, so that
    /// a port freed is free before it is asked for again; then replacements, updates, adds,
    /// renewals and the entries of other programs to re-create.
    /// - Parameters:
    ///   - plan: what the planner decided.
    ///   - restore: entries of other programs to re-create (rollback).
    ///   - table: the gateway's table the plan was made from (what each operation finds there
    ///     before it).
    public static func operations(of plan: Plan, restoring restore: [PortMappingEntry] = [], table: [PortMappingEntry] = []) -> [PlannedOperation] {
        Reconciliation.steps(plan, restoring: restore, table: table).map(\.planned)
    }
}
