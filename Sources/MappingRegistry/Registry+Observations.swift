import Foundation
import GRDB
import IGDProtocol

extension Registry {
    /// Stores the gateway's table when it differs from the last one stored (leases, which
    /// count down, do not count as a difference).
    /// - Returns: true when a row was written.
    @discardableResult
    public func recordObservation(gatewayID: Int64, entries: [PortMappingEntry], at now: Date = Date()) throws -> Bool {
        let sorted = entries.sorted { MappingKey($0) < MappingKey($1) }
        let digest = Storage.json(sorted.map { entry -> PortMappingEntry in
            var entry = entry
            entry.leaseDuration = 0
            return entry
        })
        return try writing { db in
            let last = try String.fetchOne(db, sql: "SELECT digest FROM observation WHERE gateway_id = ? ORDER BY id DESC LIMIT 1", arguments: [gatewayID])
            guard last != digest else { return false }
            try db.execute(sql: "INSERT INTO observation (gateway_id, time, digest, entries) VALUES (?, ?, ?, ?)",
                           arguments: [gatewayID, Storage.text(now), digest, Storage.json(sorted)])
            return true
        }
    }

    /// The gateway's table as last stored, or nil when it was never read.
    public func lastObservation(gatewayID: Int64) throws -> [PortMappingEntry]? {
        try reading { db in
            Storage.decode([PortMappingEntry].self, try String.fetchOne(db, sql: "SELECT entries FROM observation WHERE gateway_id = ? ORDER BY id DESC LIMIT 1", arguments: [gatewayID]))
        }
    }
}
