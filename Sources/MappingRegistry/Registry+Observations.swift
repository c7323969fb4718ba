import Foundation
import GRDB
import IGDProtocol
import PortKeeperModel

extension Registry {
    /// Stores the gateway's table when it differs from the last one stored (leases, which
    /// count down, do not count as a difference).
    /// - Returns: true when a row was written.
    @discardableResult
    public func recordObservation(gatewayID: Int64, entries: [PortMappingEntry], at now: Date = Date()) throws -> Bool {
        let sorted = entries.sorted { MappingKey($0) < MappingKey($1) }
        let digest = try Storage.json(sorted.map { entry -> PortMappingEntry in
            var entry = entry
            entry.leaseDuration = 0
            return entry
        })
        return try writing { db in
            let last = try String.fetchOne(db, sql: "SELECT digest FROM observation WHERE gateway_id = ? ORDER BY id DESC LIMIT 1", arguments: [gatewayID])
            guard last != digest else { return false }
            try db.execute(sql: "INSERT INTO observation (gateway_id, time, digest, entries) VALUES (?, ?, ?, ?)",
                           arguments: [gatewayID, Storage.text(now), digest, try Storage.json(sorted)])
            return true
        }
    }

    /// The gateway's table as last stored, or nil when it was never read.
    public func lastObservation(gatewayID: Int64) throws -> [PortMappingEntry]? {
        try reading { db in
            let row = try Row.fetchOne(db, sql: "SELECT id, entries FROM observation WHERE gateway_id = ? ORDER BY id DESC LIMIT 1", arguments: [gatewayID])
            guard let row else { return nil }
            let what = "observation \(try row.stored("id", of: "an observation") as Int64)"
            // A table that does not decode must not read as "never read": plan would fall back to nothing.
            return try Storage.decode([PortMappingEntry].self, try row.stored("entries", of: what), "\(what)'s entries")
        }
    }
}
