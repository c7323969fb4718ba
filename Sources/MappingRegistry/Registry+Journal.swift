import Foundation
import GRDB
import IGDProtocol
import PortKeeperModel

extension Registry {
    /// Journals an operation before it is sent to the gateway.
    /// - Returns: the operation's id, to complete with ``journalOutcome(_:_:)``.
    public func journalIntent(
        revision: Int64, gatewayID: Int64, action: OperationAction, key: MappingKey,
        entry: PortMappingEntry? = nil, deleteReason: DeleteReason? = nil, before: PortMappingEntry?, at now: Date = Date()
    ) throws -> Int64 {
        try writing { db in
            let arguments: String? = switch action {
            case .add: try entry.map { try Storage.json($0) }
            case .delete: try deleteReason.map { try Storage.json(["reason": $0.rawValue]) }
            }
            try db.execute(sql: """
                INSERT INTO operation (revision_id, gateway_id, action, protocol, external_port, remote_host, arguments, before, outcome, started)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)
                """, arguments: [
                    revision, gatewayID, action.rawValue, key.protocol.rawValue, Int(key.externalPort), key.remoteHost,
                    arguments, try before.map { try Storage.json($0) }, Storage.text(now),
                ])
            return db.lastInsertedRowID
        }
    }

    /// Completes a journaled operation, and with it the ownership record: an entry portkeeper
    /// added is its own; one it deleted no longer is.
    public func journalOutcome(_ id: Int64, _ outcome: OperationOutcome, at now: Date = Date()) throws {
        try writing { db in
            try db.execute(sql: "UPDATE operation SET outcome = ?, finished = ? WHERE id = ?", arguments: [outcome.stored, Storage.text(now), id])
            guard outcome == .ok, let operation = try Self.operation(db, id: id) else { return }
            switch operation.action {
            case .add:
                try db.execute(sql: """
                    INSERT OR REPLACE INTO owned_mapping (gateway_id, protocol, external_port, remote_host, revision_id) VALUES (?, ?, ?, ?, ?)
                    """, arguments: [operation.gatewayID, operation.key.protocol.rawValue, Int(operation.key.externalPort), operation.key.remoteHost, operation.revision])
            case .delete:
                try db.execute(sql: """
                    DELETE FROM owned_mapping WHERE gateway_id = ? AND protocol = ? AND external_port = ? AND remote_host = ?
                    """, arguments: [operation.gatewayID, operation.key.protocol.rawValue, Int(operation.key.externalPort), operation.key.remoteHost])
            }
        }
    }

    /// Operations whose outcome was never learned (the process died while acting, or the
    /// gateway did not answer): to be resolved by reading the gateway, not by replaying them.
    public func unresolvedOperations(gatewayID: Int64) throws -> [JournaledOperation] {
        try reading { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM operation WHERE gateway_id = ? AND (outcome = 'pending' OR outcome LIKE 'unknown%') ORDER BY id
                """, arguments: [gatewayID]).map { try JournaledOperation(row: $0) }
        }
    }

    /// The operations of a revision, in order.
    public func operations(revision: Int64) throws -> [JournaledOperation] {
        try reading { db in
            try Row.fetchAll(db, sql: "SELECT * FROM operation WHERE revision_id = ? ORDER BY id", arguments: [revision])
                .map { try JournaledOperation(row: $0) }
        }
    }

    /// Entries of other programs that `--prune` or `--force` deleted after `revision`, as they
    /// were before: rollback re-creates them.
    public func foreignEntriesDeleted(afterRevision revision: Int64, gatewayID: Int64) throws -> [PortMappingEntry] {
        try reading { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM operation WHERE gateway_id = ? AND revision_id > ? AND action = 'DeletePortMapping' AND outcome = 'ok'
                ORDER BY id
                """, arguments: [gatewayID, revision])
                .map { try JournaledOperation(row: $0) }
                .filter { $0.deleteReason == .pruned || $0.deleteReason == .replaced }
                .compactMap(\.before)
        }
    }

    /// The keys of the entries portkeeper created on a gateway and has not deleted.
    public func ownedKeys(gatewayID: Int64) throws -> Set<MappingKey> {
        try reading { db in
            Set(try Row.fetchAll(db, sql: "SELECT protocol, external_port, remote_host FROM owned_mapping WHERE gateway_id = ?", arguments: [gatewayID])
                .map { try MappingKey(row: $0, of: "a mapping owned on gateway \(gatewayID)") })
        }
    }

    /// Records a mapping as portkeeper's own (or not) without an operation, e.g. when an
    /// unknown outcome is resolved by reading the gateway.
    public func setOwned(_ key: MappingKey, gatewayID: Int64, revision: Int64, owned: Bool) throws {
        try writing { db in
            if owned {
                try db.execute(sql: """
                    INSERT OR REPLACE INTO owned_mapping (gateway_id, protocol, external_port, remote_host, revision_id) VALUES (?, ?, ?, ?, ?)
                    """, arguments: [gatewayID, key.protocol.rawValue, Int(key.externalPort), key.remoteHost, revision])
            } else {
                try db.execute(sql: """
                    DELETE FROM owned_mapping WHERE gateway_id = ? AND protocol = ? AND external_port = ? AND remote_host = ?
                    """, arguments: [gatewayID, key.protocol.rawValue, Int(key.externalPort), key.remoteHost])
            }
        }
    }

    static func operation(_ db: Database, id: Int64) throws -> JournaledOperation? {
        try Row.fetchOne(db, sql: "SELECT * FROM operation WHERE id = ?", arguments: [id]).map { try JournaledOperation(row: $0) }
    }
}

extension JournaledOperation {
    /// The operation a row of `operation` holds.
    /// - Throws: ``UndecodableRow`` when a value does not fit (an unknown action, protocol or
    ///   outcome, arguments that are not the entry sent).
    init(row: Row) throws {
        id = try row.stored("id", of: "an operation")
        let what = "operation \(id)"
        revision = try row.stored("revision_id", of: what)
        gatewayID = try row.stored("gateway_id", of: what)
        action = try row.stored("action", of: what)
        key = try MappingKey(row: row, of: what)
        let arguments: String? = try row.stored("arguments", of: what)
        switch action {
        case .add:
            entry = try Storage.decode(PortMappingEntry.self, arguments, "\(what)'s arguments")
            deleteReason = nil
        case .delete:
            entry = nil
            deleteReason = try Storage.decode([String: DeleteReason].self, arguments, "\(what)'s arguments").map { reasons in
                guard let reason = reasons["reason"] else { throw UndecodableRow("\(what)'s arguments") }
                return reason
            }
        }
        before = try Storage.decode(PortMappingEntry.self, try row.stored("before", of: what), "\(what)'s before")
        guard let outcome = OperationOutcome(stored: try row.stored("outcome", of: what)) else { throw UndecodableRow("\(what)'s outcome") }
        self.outcome = outcome
    }
}

extension MappingKey {
    /// The key in a row's `protocol`, `external_port` and `remote_host` columns.
    /// - Throws: ``UndecodableRow`` naming `record` when they do not make a key.
    init(row: Row, of record: @autoclosure () -> String) throws {
        self.init(protocol: try row.stored("protocol", of: record()), externalPort: try row.stored("external_port", of: record()),
                  remoteHost: try row.stored("remote_host", of: record()))
    }
}
