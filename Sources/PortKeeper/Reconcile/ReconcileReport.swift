import IGDProtocol
import MappingRegistry
import PortKeeperModel

extension Keeper {
    /// What a reconcile did.
    public struct ReconcileReport: Sendable {
        /// The gateway, as recorded after the reconcile (a new URL or address included).
        public var gateway: GatewayRecord
        /// The revision that records it; nil when nothing changed.
        public var revision: Int64?
        /// What the reconcile set out to do.
        public var plan: Plan
        /// What it did and found, in order.
        public var changes: [Change]
        /// The gateway matches the declaration now (foreign entries aside).
        public var inSync: Bool
        /// What is still to do, read back from the gateway afterwards (empty when in sync).
        public var remaining: Plan
        /// Entries of other programs a rollback could not re-create, with the gateway's answer.
        public var unrestored: [(entry: PortMappingEntry, outcome: String)] = []
        /// When the first declared mapping with a lease should be renewed.
        public var nextRenewal: Duration?
        /// A stop was asked for and the remaining operations were skipped.
        public var stopped = false
        /// The gateway stopped answering (a timeout, a refused connection) and nothing more was
        /// sent to it: why, in one line with what to try.
        public var unreachable: PortKeeperError?
        /// The operations not sent because the gateway had stopped answering.
        public var notSent: [MappingKey] = []
        /// Every operation that failed, each in one line with what to try.
        public var failures: [(key: MappingKey, error: PortKeeperError)] = []
        /// Entries of the gateway's table that make no sense: ignored, never acted on.
        public var ignored: [InvalidPortMappingEntry] = []
        /// What was found on the gateway that portkeeper did not do (also in ``changes``).
        public var found: [Change] = []
        /// What became of each planned operation, in the order sent (also in ``changes``).
        public var operations: [OperationReport] = []
        /// Everything asked for was done.
        public var succeeded: Bool { inSync && unrestored.isEmpty && unreachable == nil }
    }

    /// What the journal says of an operation not sent because the gateway had stopped answering.
    public static let notSentReason = "not sent: the gateway had stopped answering"
}
