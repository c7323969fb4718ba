import Foundation
import GRDB
import IGDProtocol

extension Registry {
    /// Records a gateway just found: inserted by UDN, or updated (names, URL, services,
    /// external address, BOOTID). Returns the record and what changed that history should tell:
    /// a new description URL (the gateway moved) or a new external address.
    public func recordGateway(_ observed: ObservedGateway, at now: Date = Date()) throws -> (record: GatewayRecord, changes: [Change]) {
        // An empty UDN would key every such router to one record; the client gives them an
        // identity of their own (DeviceDescription.identity), so one arriving here is a bug.
        guard !observed.udn.allSatisfy(\.isWhitespace) else {
            throw RegistryError.invalid("gateway \(observed.friendlyName) at \(observed.descriptionURL) has no UDN to be recorded by")
        }
        return try writing { db in
            let time = Storage.text(now)
            var changes: [Change] = []
            let existing = try GatewayRecord.fetch(db, udn: observed.udn)
            if let existing {
                if existing.descriptionURL != observed.descriptionURL || existing.controlURL != observed.chosen.controlURL {
                    changes.append(Change(.gatewayMoved, nil, "\(existing.descriptionURL) → \(observed.descriptionURL)"))
                }
                try db.execute(sql: """
                    UPDATE gateway SET friendly_name = ?, manufacturer = ?, model_name = ?, model_number = ?,
                      description_url = ?, service_type = ?, control_url = ?, service_choice = ?,
                      boot_id = COALESCE(?, boot_id), last_seen = ?
                    WHERE id = ?
                    """, arguments: [
                        observed.friendlyName, observed.manufacturer, observed.modelName, observed.modelNumber,
                        observed.descriptionURL, observed.chosen.serviceType, observed.chosen.controlURL, observed.serviceChoice,
                        observed.bootID.map { Int64($0) }, time, existing.id,
                    ])
            } else {
                try db.execute(sql: """
                    INSERT INTO gateway (udn, friendly_name, manufacturer, model_name, model_number, description_url,
                      service_type, control_url, service_choice, boot_id, first_seen, last_seen)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [
                        observed.udn, observed.friendlyName, observed.manufacturer, observed.modelName, observed.modelNumber,
                        observed.descriptionURL, observed.chosen.serviceType, observed.chosen.controlURL, observed.serviceChoice,
                        observed.bootID.map { Int64($0) }, time, time,
                    ])
            }
            guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM gateway WHERE udn = ?", arguments: [observed.udn]) else {
                throw RegistryError.corrupt("gateway \(observed.udn) vanished while being recorded")
            }
            try db.execute(sql: """
                INSERT INTO gateway_location (gateway_id, url, first_seen, last_seen) VALUES (?, ?, ?, ?)
                ON CONFLICT (gateway_id, url) DO UPDATE SET last_seen = excluded.last_seen
                """, arguments: [id, observed.descriptionURL, time, time])
            let services = try Row.fetchAll(db, sql: "SELECT control_url, service_type, service_id, chosen, reason FROM gateway_service WHERE gateway_id = ? ORDER BY rowid", arguments: [id])
            let storedServices = services.map { ObservedGateway.Service(serviceType: $0["service_type"], serviceId: $0["service_id"], controlURL: $0["control_url"]) }
            let storedChosen = services.first { ($0["chosen"] as Int) == 1 }.map { ($0["control_url"] as String, $0["reason"] as String) }
            if storedServices != observed.services || storedChosen?.0 != observed.chosen.controlURL || storedChosen?.1 != observed.serviceChoice {
                try db.execute(sql: "DELETE FROM gateway_service WHERE gateway_id = ?", arguments: [id])
                for service in observed.services {
                    let chosen = service == observed.chosen
                    try db.execute(sql: """
                        INSERT OR IGNORE INTO gateway_service (gateway_id, service_type, service_id, control_url, chosen, reason)
                        VALUES (?, ?, ?, ?, ?, ?)
                        """, arguments: [id, service.serviceType, service.serviceId, service.controlURL, chosen, chosen ? observed.serviceChoice : ""])
                }
            }
            if let address = observed.externalAddress, let change = try Self.recordAddress(db, gatewayID: id, address, time: time) {
                changes.append(change)
            }
            guard let record = try GatewayRecord.fetch(db, id: id) else {
                throw RegistryError.corrupt("gateway \(observed.udn) vanished while being recorded")
            }
            return (record, changes)
        }
    }

    /// Records the external address a gateway reports, when it differs from the last one.
    /// - Returns: the change for history, when there was an earlier address.
    @discardableResult
    public func recordAddress(gatewayID: Int64, _ address: ExternalAddress, at now: Date = Date()) throws -> Change? {
        try writing { db in try Self.recordAddress(db, gatewayID: gatewayID, address, time: Storage.text(now)) }
    }

    static func recordAddress(_ db: Database, gatewayID id: Int64, _ address: ExternalAddress, time: String) throws -> Change? {
        let last = try Row.fetchOne(db, sql: "SELECT id, address FROM external_address WHERE gateway_id = ? ORDER BY id DESC LIMIT 1", arguments: [id])
        if let last, (last["address"] as String) == address.reported {
            try db.execute(sql: "UPDATE external_address SET last_seen = ? WHERE id = ?", arguments: [time, last["id"] as Int64])
            return nil
        }
        try db.execute(sql: "INSERT INTO external_address (gateway_id, address, address_class, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)",
                       arguments: [id, address.reported, address.addressClass.rawValue, time, time])
        guard let last else { return nil }
        return Change(.addressChanged, nil, "external address \(last["address"] as String) → \(address.reported.isEmpty ? "none" : address.reported)")
    }

    /// Every known gateway, oldest first.
    public func gateways() throws -> [GatewayRecord] {
        try reading { db in try GatewayRecord.fetchAll(db) }
    }

    public func gateway(id: Int64) throws -> GatewayRecord? {
        try reading { db in try GatewayRecord.fetch(db, id: id) }
    }

    /// The gateway `reference` names: a UDN, a unique prefix of one (with or without
    /// "uuid:"), or a friendly name; with nil, the only known gateway.
    /// - Throws: ``RegistryError`` saying why none or several match.
    public func resolveGateway(_ reference: String?) throws -> GatewayRecord {
        let all = try gateways()
        guard let reference = reference?.trimmingCharacters(in: .whitespaces), !reference.isEmpty else {
            switch all.count {
            case 1: return all[0]
            case 0: throw RegistryError.notFound("no gateway is known yet", context: .noGatewayKnown)
            default:
                throw RegistryError.invalid("\(all.count) gateways are known (\(all.map { "\($0.friendlyName) \($0.udn)" }.joined(separator: ", ")))", context: .severalGatewaysKnown)
            }
        }
        if let exact = all.first(where: { $0.udn.lowercased() == reference.lowercased() || $0.udn.lowercased() == "uuid:" + reference.lowercased() }) {
            return exact
        }
        let wanted = reference.lowercased().hasPrefix("uuid:") ? reference.lowercased() : "uuid:" + reference.lowercased()
        let byPrefix = all.filter { $0.udn.lowercased().hasPrefix(wanted) }
        if byPrefix.count == 1 { return byPrefix[0] }
        if byPrefix.count > 1 {
            throw RegistryError.invalid("'\(reference)' matches \(byPrefix.count) gateways (\(byPrefix.map(\.udn).joined(separator: ", "))); give more of the UDN")
        }
        let byName = all.filter { $0.friendlyName == reference }
        if byName.count == 1 { return byName[0] }
        if byName.count > 1 {
            throw RegistryError.invalid("\(byName.count) gateways are named '\(reference)'; give the UDN instead")
        }
        throw RegistryError.notFound("no known gateway matches '\(reference)'", context: .unknownGateway)
    }

    /// Records what was learned about a gateway's behaviour.
    public func learn(gatewayID: Int64, permanentLeasesOnly: Bool? = nil, listEnd: String? = nil,
                      listOfPortMappingsWorks: Bool? = nil, descriptionLimit: Int? = nil) throws {
        try writing { db in
            if let descriptionLimit {
                try db.execute(sql: "UPDATE gateway SET description_limit = ? WHERE id = ?", arguments: [descriptionLimit, gatewayID])
            }
            if let permanentLeasesOnly {
                try db.execute(sql: "UPDATE gateway SET permanent_leases_only = ? WHERE id = ?", arguments: [permanentLeasesOnly, gatewayID])
            }
            if let listEnd {
                try db.execute(sql: "UPDATE gateway SET list_end = ? WHERE id = ?", arguments: [listEnd, gatewayID])
            }
            if let listOfPortMappingsWorks {
                try db.execute(sql: "UPDATE gateway SET list_of_port_mappings_works = ? WHERE id = ?", arguments: [listOfPortMappingsWorks, gatewayID])
            }
        }
    }

    /// Marks the gateway seen now (an in-sync reconcile writes only this).
    public func touchGateway(_ id: Int64, at now: Date = Date()) throws {
        try writing { db in
            try db.execute(sql: "UPDATE gateway SET last_seen = ? WHERE id = ?", arguments: [Storage.text(now), id])
        }
    }
}

extension GatewayRecord {
    static let selection = """
        SELECT g.*, (SELECT address FROM external_address a WHERE a.gateway_id = g.id ORDER BY a.id DESC LIMIT 1) AS external,
               (SELECT address_class FROM external_address a WHERE a.gateway_id = g.id ORDER BY a.id DESC LIMIT 1) AS external_class
        FROM gateway g
        """

    init(row: Row) {
        id = row["id"]
        udn = row["udn"]
        friendlyName = row["friendly_name"]
        manufacturer = row["manufacturer"]
        modelName = row["model_name"]
        modelNumber = row["model_number"]
        descriptionURL = row["description_url"]
        serviceType = row["service_type"]
        controlURL = row["control_url"]
        serviceChoice = row["service_choice"]
        bootID = (row["boot_id"] as Int64?).map { UInt32(truncatingIfNeeded: $0) }
        externalAddress = row["external"]
        addressClass = row["external_class"]
        permanentLeasesOnly = row["permanent_leases_only"]
        listEnd = row["list_end"]
        listOfPortMappingsWorks = row["list_of_port_mappings_works"]
        descriptionLimit = row["description_limit"]
        firstSeen = Storage.date(row["first_seen"])
        lastSeen = Storage.date(row["last_seen"])
    }

    static func fetch(_ db: Database, udn: String) throws -> GatewayRecord? {
        try Row.fetchOne(db, sql: selection + " WHERE g.udn = ?", arguments: [udn]).map(GatewayRecord.init(row:))
    }

    static func fetch(_ db: Database, id: Int64) throws -> GatewayRecord? {
        try Row.fetchOne(db, sql: selection + " WHERE g.id = ?", arguments: [id]).map(GatewayRecord.init(row:))
    }

    static func fetchAll(_ db: Database) throws -> [GatewayRecord] {
        try Row.fetchAll(db, sql: selection + " ORDER BY g.id").map(GatewayRecord.init(row:))
    }
}
