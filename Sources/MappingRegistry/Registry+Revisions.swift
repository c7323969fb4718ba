import Foundation
import GRDB
import IGDProtocol
import PortKeeperModel

extension Registry {
    /// The declared mappings of a gateway, as they stand.
    public func declarations(gatewayID: Int64) throws -> [DeclaredMapping] {
        try reading { db in try Self.declarations(db, gatewayID: gatewayID) }
    }

    /// Every declared mapping, by gateway.
    public func allDeclarations() throws -> [(gateway: GatewayRecord, mappings: [DeclaredMapping])] {
        try reading { db in
            try GatewayRecord.fetchAll(db).map { ($0, try Self.declarations(db, gatewayID: $0.id)) }
        }
    }

    static func declarations(_ db: Database, gatewayID: Int64) throws -> [DeclaredMapping] {
        try Row.fetchAll(db, sql: """
            SELECT * FROM declared_mapping WHERE gateway_id = ? ORDER BY external_port, protocol, remote_host
            """, arguments: [gatewayID]).map { row in
            let what = "a mapping declared on gateway \(gatewayID)"
            // NULL is "this host"; any other value must be an address.
            let client: InternalClient = try (row.stored("internal_client", of: what) as String?).map { text in
                guard let address = IPv4Address(text) else { throw UndecodableRow("\(what)'s internal_client") }
                return .address(address)
            } ?? .thisHost
            return DeclaredMapping(
                key: try MappingKey(row: row, of: what), client: client, internalPort: try row.stored("internal_port", of: what),
                description: try row.stored("description", of: what), leaseDuration: try row.stored("lease_duration", of: what),
                enabled: try row.stored("enabled", of: what)
            )
        }
    }

    /// The declaration of a gateway right after `revision`.
    /// - Throws: ``RegistryError`` when the revision does not exist.
    public func declaration(afterRevision revision: Int64, gatewayID: Int64) throws -> [DeclaredMapping] {
        try reading { db in
            guard try Int64.fetchOne(db, sql: "SELECT id FROM revision WHERE id = ?", arguments: [revision]) != nil else {
                throw RegistryError.notFound("there is no revision \(revision)", context: .unknownRevision)
            }
            let snapshot = try String.fetchOne(db, sql: """
                SELECT mappings FROM declaration_snapshot WHERE gateway_id = ? AND revision_id <= ?
                ORDER BY revision_id DESC LIMIT 1
                """, arguments: [gatewayID, revision])
            guard let snapshot else { return [] }
            // A snapshot that does not decode must not read as "nothing declared": a rollback to
            // it would delete every mapping.
            return try Storage.decode([DeclaredMapping].self, snapshot, "the declaration of revision \(revision)") ?? []
        }
    }

    /// Starts a revision that changes nothing in the declaration (a reconcile's); its changes
    /// are added by ``completeRevision(_:adding:summary:)``.
    /// - Returns: the revision number.
    public func beginRevision(command: String, actor: RevisionActor, gatewayID: Int64?, changes: [Change], summary: String,
                              at now: Date = Date()) throws -> Int64 {
        try writing { db in try Self.insertRevision(db, command: command, actor: actor, gatewayID: gatewayID, changes: changes, summary: summary, at: now) }
    }

    /// Writes a revision of what `author`, a command that changes no mapping (`status`, `list`,
    /// `discover`), saw change about a gateway while recording it (it moved, its external
    /// address changed, it answers only PCP now), in the transaction that recorded it: history
    /// tells it even when no reconcile saw it first. Nothing without an author (a reconcile adds
    /// the changes to its own revision) or when nothing changed.
    static func insertObserved(_ db: Database, _ changes: [Change], gatewayID: Int64, by author: RevisionAuthor?, at now: Date) throws {
        guard let author, !changes.isEmpty else { return }
        _ = try insertRevision(db, command: author.command, actor: author.actor, gatewayID: gatewayID, changes: changes,
                               summary: Change.summary(of: changes), at: now)
    }

    static func insertRevision(_ db: Database, command: String, actor: RevisionActor, gatewayID: Int64?, changes: [Change], summary: String,
                               at now: Date) throws -> Int64 {
        try db.execute(sql: """
            INSERT INTO revision (time, command, actor, gateway_id, summary, changes) VALUES (?, ?, ?, ?, ?, ?)
            """, arguments: [Storage.text(now), command, actor, gatewayID, summary, try Storage.json(changes)])
        return db.lastInsertedRowID
    }

    /// Changes a gateway's declaration as one transaction: `change` gets the declaration as it
    /// stands and returns the new one with what changed, or nil to change nothing. Nothing can
    /// write between the read and the write, so two processes declaring at once both count.
    /// - Returns: the new revision, or nil when `change` returned nil.
    public func changeDeclaration(
        gatewayID: Int64, command: String, actor: RevisionActor, at now: Date = Date(),
        _ change: @Sendable ([DeclaredMapping]) throws -> (declaration: [DeclaredMapping], changes: [Change], summary: String)?
    ) throws -> Int64? {
        try writing { db in
            guard let result = try change(try Self.declarations(db, gatewayID: gatewayID)) else { return nil }
            let revision = try Self.insertRevision(db, command: command, actor: actor, gatewayID: gatewayID,
                                                   changes: result.changes, summary: result.summary, at: now)
            try Self.replaceDeclaration(db, gatewayID: gatewayID, with: result.declaration, revision: revision)
            return revision
        }
    }

    /// Changes a gateway's declaration as one transaction, always writing a revision (an
    /// undeclare, a rollback): `change` gets the declaration as it stands and returns the new one
    /// with what changed.
    /// - Returns: the new revision.
    public func changeDeclaration(
        gatewayID: Int64, command: String, actor: RevisionActor, at now: Date = Date(),
        _ change: @Sendable ([DeclaredMapping]) throws -> (declaration: [DeclaredMapping], changes: [Change], summary: String)
    ) throws -> Int64 {
        try writing { db in
            let result = try change(try Self.declarations(db, gatewayID: gatewayID))
            let revision = try Self.insertRevision(db, command: command, actor: actor, gatewayID: gatewayID,
                                                   changes: result.changes, summary: result.summary, at: now)
            try Self.replaceDeclaration(db, gatewayID: gatewayID, with: result.declaration, revision: revision)
            return revision
        }
    }

    static func replaceDeclaration(_ db: Database, gatewayID: Int64, with declaration: [DeclaredMapping], revision: Int64) throws {
        try db.execute(sql: "DELETE FROM declared_mapping WHERE gateway_id = ?", arguments: [gatewayID])
        for mapping in declaration {
            let client: String? = switch mapping.client {
            case .thisHost: nil
            case .address(let address): address.description
            }
            try db.execute(sql: """
                INSERT INTO declared_mapping (gateway_id, protocol, external_port, remote_host, internal_client, internal_port,
                  description, lease_duration, enabled) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [
                    gatewayID, mapping.key.protocol.rawValue, Int(mapping.key.externalPort), mapping.key.remoteHost, client,
                    Int(mapping.internalPort), mapping.description, Int64(mapping.leaseDuration), mapping.enabled,
                ])
        }
        try db.execute(sql: """
            INSERT OR REPLACE INTO declaration_snapshot (revision_id, gateway_id, mappings) VALUES (?, ?, ?)
            """, arguments: [revision, gatewayID, try Storage.json(declaration.sorted { $0.key < $1.key })])
    }

    /// Adds to a revision what happened after it began, and sets its summary.
    public func completeRevision(_ revision: Int64, adding changes: [Change], summary: String) throws {
        try writing { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT changes FROM revision WHERE id = ?", arguments: [revision]) else {
                throw RegistryError.notFound("there is no revision \(revision)", context: .unknownRevision)
            }
            // Changes that do not decode stay as they are, never overwritten by the new ones alone.
            let existing = try Storage.decode([Change].self, try row.stored("changes", of: "revision \(revision)"), "revision \(revision)'s changes") ?? []
            try db.execute(sql: "UPDATE revision SET changes = ?, summary = ? WHERE id = ?", arguments: [try Storage.json(existing + changes), summary, revision])
        }
    }

    /// Revisions, newest first.
    public func history(limit: Int, gatewayID: Int64? = nil) throws -> [RevisionRecord] {
        try reading { db in
            let rows: [Row]
            if let gatewayID {
                rows = try Row.fetchAll(db, sql: "SELECT * FROM revision WHERE gateway_id = ? ORDER BY id DESC LIMIT ?", arguments: [gatewayID, limit])
            } else {
                rows = try Row.fetchAll(db, sql: "SELECT * FROM revision ORDER BY id DESC LIMIT ?", arguments: [limit])
            }
            // A row that does not decode is damage, named; never shown as an empty revision.
            return try rows.map { row in
                let number: Int64 = try row.decode(forColumn: "id")
                // Named as a whole, as history has always named it.
                let what = "revision \(number)"
                do {
                    return RevisionRecord(
                        number: number, time: try row.storedDate("time", of: what), command: try row.stored("command", of: what),
                        actor: try row.stored("actor", of: what), gatewayID: try row.stored("gateway_id", of: what),
                        summary: try row.stored("summary", of: what), changes: try Storage.decode([Change].self, try row.stored("changes", of: what), what) ?? []
                    )
                } catch is UndecodableRow {
                    throw UndecodableRow(what)
                }
            }
        }
    }

    /// The gateway a revision concerns.
    public func revisionGateway(_ revision: Int64) throws -> Int64? {
        try reading { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT gateway_id FROM revision WHERE id = ?", arguments: [revision]) else {
                throw RegistryError.notFound("there is no revision \(revision)", context: .unknownRevision)
            }
            return try row.stored("gateway_id", of: "revision \(revision)")
        }
    }
}
