import Foundation
import GRDB
import IGDProtocol
import PortKeeperModel

extension Registry {
    /// Records a gateway just found: inserted by UDN, or updated (names, URL, services,
    /// external address, BOOTID). Returns the record and what changed that history should tell:
    /// a new description URL (the gateway moved) or a new external address. With `author`,
    /// those changes are also written as a revision of their own (see `insertObserved`).
    public func recordGateway(_ observed: ObservedGateway, at now: Date = Date(), recordedBy author: RevisionAuthor? = nil) throws -> (record: GatewayRecord, changes: [Change]) {
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
                    changes.append(Change(.gatewayMoved, nil, "\(existing.location) → \(observed.descriptionURL)"))
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
            let what = "a service of gateway \(id)"
            let storedServices = try services.map { row in
                ObservedGateway.Service(serviceType: try row.stored("service_type", of: what), serviceId: try row.stored("service_id", of: what),
                                        controlURL: try row.stored("control_url", of: what))
            }
            let storedChosen = try services.first { try $0.stored("chosen", of: what) as Bool }
                .map { (try $0.stored("control_url", of: what) as GatewayURL, try $0.stored("reason", of: what) as String) }
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
            try Self.insertObserved(db, changes, gatewayID: id, by: author, at: now)
            return (record, changes)
        }
    }

    /// Records the external address a gateway reports, when it differs from the last one.
    /// - Returns: the change for history, when there was an earlier address (with `author`, also
    ///   written as a revision of its own, as ``recordGateway(_:at:recordedBy:)`` does).
    @discardableResult
    public func recordAddress(gatewayID: Int64, _ address: ExternalAddress, at now: Date = Date(), recordedBy author: RevisionAuthor? = nil) throws -> Change? {
        try writing { db in
            let change = try Self.recordAddress(db, gatewayID: gatewayID, address, time: Storage.text(now))
            try Self.insertObserved(db, change.map { [$0] } ?? [], gatewayID: gatewayID, by: author, at: now)
            return change
        }
    }

    static func recordAddress(_ db: Database, gatewayID id: Int64, _ address: ExternalAddress, time: String) throws -> Change? {
        let row = try Row.fetchOne(db, sql: "SELECT id, address FROM external_address WHERE gateway_id = ? ORDER BY id DESC LIMIT 1", arguments: [id])
        let last = try row.map { (id: try $0.stored("id", of: "an external address") as Int64, address: try $0.stored("address", of: "an external address") as String) }
        if let last, last.address == address.reported {
            try db.execute(sql: "UPDATE external_address SET last_seen = ? WHERE id = ?", arguments: [time, last.id])
            return nil
        }
        try db.execute(sql: "INSERT INTO external_address (gateway_id, address, address_class, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)",
                       arguments: [id, address.reported, address.addressClass.rawValue, time, time])
        guard let last else { return nil }
        return Change(.addressChanged, nil, "external address \(last.address) → \(address.reported.isEmpty ? "none" : address.reported)")
    }

    /// Every known gateway, oldest first.
    public func gateways() throws -> [GatewayRecord] {
        try reading { db in try GatewayRecord.fetchAll(db) }
    }

    /// The gateway recorded under `id`; nil when there is none.
    public func gateway(id: Int64) throws -> GatewayRecord? {
        try reading { db in try GatewayRecord.fetch(db, id: id) }
    }

    /// The known gateway whose description is at `url`, or, when none is there now, the one
    /// last seen there.
    public func gateway(atDescriptionURL url: GatewayURL) throws -> GatewayRecord? {
        try reading { db in
            if let current = try Row.fetchOne(db, sql: GatewayRecord.selection + " WHERE g.description_url = ?", arguments: [url]) {
                return try GatewayRecord(row: current)
            }
            let earlier = try Int64.fetchOne(db, sql: "SELECT gateway_id FROM gateway_location WHERE url = ? ORDER BY last_seen DESC LIMIT 1", arguments: [url])
            return try earlier.flatMap { try GatewayRecord.fetch(db, id: $0) }
        }
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
               (SELECT address_class FROM external_address a WHERE a.gateway_id = g.id ORDER BY a.id DESC LIMIT 1) AS external_class,
               (SELECT service_id FROM gateway_service s WHERE s.gateway_id = g.id AND s.control_url = g.control_url) AS chosen_service_id
        FROM gateway g
        """

    /// The gateway a row of ``selection`` holds.
    /// - Throws: ``UndecodableRow`` when a value does not fit its column (a URL portkeeper
    ///   would not follow, an unknown service type, a time that is not one).
    init(row: Row) throws {
        id = try row.stored("id", of: "a gateway")
        let what = "gateway \(id)"
        udn = try row.stored("udn", of: what)
        friendlyName = try row.stored("friendly_name", of: what)
        manufacturer = try row.stored("manufacturer", of: what)
        modelName = try row.stored("model_name", of: what)
        modelNumber = try row.stored("model_number", of: what)
        // Empty for a gateway that speaks only PCP or NAT-PMP.
        descriptionURL = try row.storedUnlessEmpty("description_url", of: what)
        serviceType = try row.storedUnlessEmpty("service_type", of: what)
        // Not recorded when another service shares the chosen one's control URL (one row per URL).
        serviceId = try row.stored("chosen_service_id", of: what) as String? ?? ""
        controlURL = try row.storedUnlessEmpty("control_url", of: what)
        serviceChoice = try row.stored("service_choice", of: what)
        bootID = try row.stored("boot_id", of: what)
        externalAddress = try row.stored("external", of: what)
        addressClass = try row.stored("external_class", of: what)
        permanentLeasesOnly = try row.stored("permanent_leases_only", of: what)
        listEnd = try row.stored("list_end", of: what)
        listOfPortMappingsWorks = try row.stored("list_of_port_mappings_works", of: what)
        descriptionLimit = try row.stored("description_limit", of: what)
        firstSeen = try row.storedDate("first_seen", of: what)
        lastSeen = try row.storedDate("last_seen", of: what)
        portControlServer = try row.stored("port_control_server", of: what)
        speaksPCP = try row.stored("speaks_pcp", of: what)
        speaksNATPMP = try row.stored("speaks_natpmp", of: what)
        hardwareAddress = try row.stored("hardware_address", of: what)
        declaredProtocol = try row.stored("declared_protocol", of: what)
        serverEpochSeconds = try row.stored("server_epoch", of: what)
        serverEpochSeen = try row.storedOptionalDate("server_epoch_seen", of: what)
    }

    static func fetch(_ db: Database, udn: String) throws -> GatewayRecord? {
        try Row.fetchOne(db, sql: selection + " WHERE g.udn = ?", arguments: [udn]).map { try GatewayRecord(row: $0) }
    }

    static func fetch(_ db: Database, id: Int64) throws -> GatewayRecord? {
        try Row.fetchOne(db, sql: selection + " WHERE g.id = ?", arguments: [id]).map { try GatewayRecord(row: $0) }
    }

    static func fetchAll(_ db: Database) throws -> [GatewayRecord] {
        try Row.fetchAll(db, sql: selection + " ORDER BY g.id").map { try GatewayRecord(row: $0) }
    }
}
