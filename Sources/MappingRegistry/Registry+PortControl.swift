import Foundation
import GRDB
import IGDProtocol
import PortKeeperModel

/// A gateway seen answering PCP or NAT-PMP, to be recorded.
public struct ObservedPortControl: Sendable, Equatable {
    /// Its LAN address, where UDP 5351 answered.
    public var server: IPv4Address
    /// PCP answered.
    public var speaksPCP: Bool
    /// NAT-PMP answered.
    public var speaksNATPMP: Bool
    /// Its hardware address from the neighbour table, when known.
    public var hardwareAddress: String?
    /// The external address it reported (NAT-PMP), when it did.
    public var externalAddress: ExternalAddress?

    /// What was seen at `server`.
    public init(server: IPv4Address, speaksPCP: Bool, speaksNATPMP: Bool, hardwareAddress: String? = nil, externalAddress: ExternalAddress? = nil) {
        self.server = server
        self.speaksPCP = speaksPCP
        self.speaksNATPMP = speaksNATPMP
        self.hardwareAddress = hardwareAddress
        self.externalAddress = externalAddress
    }

    /// The identity of a gateway that has no UPnP description (and so no UDN): "pcp:" and its
    /// LAN address, then "/" and its hardware address when known. Another router at the same
    /// address (another hardware address) is another gateway; the same router moved to another
    /// address is recorded anew (its declarations stay with the old record until moved by hand).
    public var identity: String {
        "pcp:\(server)" + (hardwareAddress.map { "/\($0.lowercased())" } ?? "")
    }
}

/// A mapping portkeeper asks for over PCP or NAT-PMP, as the registry keeps it: the nonce that
/// every request for it carries, and what the gateway last granted.
public struct PortControlMapping: Sendable, Equatable {
    /// The declared key (its external port is the one suggested).
    public var key: MappingKey
    /// PCP or NAT-PMP.
    public var via: GatewayProtocol
    /// The PCP mapping nonce, 24 hexadecimal digits.
    public var nonce: String
    /// Where it points.
    public var internalClient: IPv4Address
    /// The internal port.
    public var internalPort: UInt16
    /// The external port the gateway assigned at its last answer (may differ from the suggested
    /// one); nil until an answer came.
    public var assignedExternalPort: UInt16?
    /// The external address it assigned (PCP), when known.
    public var assignedExternalAddress: IPv4Address?
    /// The lifetime granted at the last answer, in seconds.
    public var lifetime: UInt32?
    /// When the last grant came.
    public var granted: Date?
    /// When the mapping lapses unless renewed.
    public var expires: Date?

    /// A mapping with every field given.
    public init(key: MappingKey, via: GatewayProtocol, nonce: String, internalClient: IPv4Address, internalPort: UInt16,
                assignedExternalPort: UInt16? = nil, assignedExternalAddress: IPv4Address? = nil, lifetime: UInt32? = nil,
                granted: Date? = nil, expires: Date? = nil) {
        self.key = key
        self.via = via
        self.nonce = nonce
        self.internalClient = internalClient
        self.internalPort = internalPort
        self.assignedExternalPort = assignedExternalPort
        self.assignedExternalAddress = assignedExternalAddress
        self.lifetime = lifetime
        self.granted = granted
        self.expires = expires
    }
}

extension Registry {
    /// Records a gateway seen answering PCP or NAT-PMP: on the known gateway at that LAN address
    /// (a UPnP gateway whose control URL is there, or the same server seen before), else as a new
    /// gateway known by ``ObservedPortControl/identity``. One gateway, however many protocols.
    /// - Returns: the record, and a new external address for history (with `author`, also
    ///   written as a revision of its own, as ``recordGateway(_:at:recordedBy:)`` does).
    @discardableResult
    public func recordPortControl(_ observed: ObservedPortControl, at now: Date = Date(), recordedBy author: RevisionAuthor? = nil) throws -> (record: GatewayRecord, changes: [Change]) {
        try writing { db in
            let time = Storage.text(now)
            let known = try GatewayRecord.fetchAll(db)
            let existing = known.first { $0.udn == observed.identity }
                ?? known.first { $0.service != nil && $0.controlURL?.host == observed.server }
                ?? known.first { $0.service == nil && $0.portControlServer == observed.server && ($0.hardwareAddress == nil || observed.hardwareAddress == nil) }
            let id: Int64
            if let existing {
                id = existing.id
                try Self.updatePortControl(db, gatewayID: id, observed, time: time)
            } else {
                let name = "\(observed.speaksPCP ? "PCP" : "NAT-PMP") gateway \(observed.server)"
                try db.execute(sql: """
                    INSERT INTO gateway (udn, friendly_name, description_url, service_type, control_url, service_choice,
                      port_control_server, speaks_pcp, speaks_natpmp, hardware_address, first_seen, last_seen)
                    VALUES (?, ?, '', '', '', '', ?, ?, ?, ?, ?, ?)
                    """, arguments: [observed.identity, name, observed.server, observed.speaksPCP, observed.speaksNATPMP,
                                     observed.hardwareAddress, time, time])
                id = db.lastInsertedRowID
            }
            var changes: [Change] = []
            if let address = observed.externalAddress, let change = try Self.recordAddress(db, gatewayID: id, address, time: time) {
                changes.append(change)
            }
            guard let record = try GatewayRecord.fetch(db, id: id) else {
                throw RegistryError.corrupt("gateway \(observed.identity) vanished while being recorded")
            }
            try Self.insertObserved(db, changes, gatewayID: id, by: author, at: now)
            return (record, changes)
        }
    }

    /// Records that a gateway known over UPnP IGD no longer answers it (the user switched UPnP
    /// off, as security guides advise) while its PCP/NAT-PMP server answers at its LAN address:
    /// its UPnP description, service and control URL are forgotten, so its mappings are made
    /// over PCP or NAT-PMP from now on. It keeps its identity (its UDN), declarations and
    /// history; should UPnP answer again, discovery records it again by that UDN.
    /// - Returns: the record as it is now, and the move for history (UPnP IGD at its control URL
    ///   → PCP or NAT-PMP at its server); with `author`, also written as a revision of its own.
    @discardableResult
    public func recordUPnPGone(gatewayID: Int64, server observed: ObservedPortControl, at now: Date = Date(),
                               recordedBy author: RevisionAuthor? = nil) throws -> (record: GatewayRecord, changes: [Change]) {
        try writing { db in
            guard let before = try GatewayRecord.fetch(db, id: gatewayID) else {
                throw RegistryError.notFound("no gateway with id \(gatewayID)")
            }
            try db.execute(sql: "UPDATE gateway SET description_url = '', service_type = '', control_url = '', service_choice = '' WHERE id = ?",
                           arguments: [gatewayID])
            try db.execute(sql: "DELETE FROM gateway_service WHERE gateway_id = ?", arguments: [gatewayID])
            try Self.updatePortControl(db, gatewayID: gatewayID, observed, time: Storage.text(now))
            guard let record = try GatewayRecord.fetch(db, id: gatewayID) else {
                throw RegistryError.notFound("no gateway with id \(gatewayID)")
            }
            let was = before.controlURL.map { "UPnP IGD at \($0)" } ?? before.location
            var changes = [Change(.gatewayMoved, nil, "\(was) → \(record.mappingProtocol.0) at \(observed.server):5351")]
            if let address = observed.externalAddress, let change = try Self.recordAddress(db, gatewayID: gatewayID, address, time: Storage.text(now)) {
                changes.append(change)
            }
            try Self.insertObserved(db, changes, gatewayID: gatewayID, by: author, at: now)
            return (record, changes)
        }
    }

    /// Writes what a PCP/NAT-PMP probe saw of a known gateway: its server, the protocols it
    /// answered, its MAC when the neighbour table had it.
    static func updatePortControl(_ db: Database, gatewayID: Int64, _ observed: ObservedPortControl, time: String) throws {
        try db.execute(sql: """
            UPDATE gateway SET port_control_server = ?, speaks_pcp = ?, speaks_natpmp = ?,
              hardware_address = COALESCE(?, hardware_address), last_seen = ? WHERE id = ?
            """, arguments: [observed.server, observed.speaksPCP, observed.speaksNATPMP, observed.hardwareAddress, time, gatewayID])
    }

    /// Remembers the protocol the user chose for a gateway's mappings (nil: portkeeper's choice).
    public func declareProtocol(_ chosen: GatewayProtocol?, gatewayID: Int64) throws {
        try writing { db in
            try db.execute(sql: "UPDATE gateway SET declared_protocol = ? WHERE id = ?", arguments: [chosen, gatewayID])
        }
    }

    /// Keeps the server's epoch as seen now, for the next run's reboot check.
    public func recordEpoch(gatewayID: Int64, seconds: UInt32, at now: Date = Date()) throws {
        try writing { db in
            try db.execute(sql: "UPDATE gateway SET server_epoch = ?, server_epoch_seen = ?, last_seen = ? WHERE id = ?",
                           arguments: [Int64(seconds), Storage.text(now), Storage.text(now), gatewayID])
        }
    }

    /// Every PCP/NAT-PMP mapping kept for the gateway, by key.
    public func portControlMappings(gatewayID: Int64) throws -> [PortControlMapping] {
        try reading { db in
            try Row.fetchAll(db, sql: "SELECT * FROM port_control_mapping WHERE gateway_id = ? ORDER BY external_port, protocol, remote_host",
                             arguments: [gatewayID]).map(PortControlMapping.init(row:))
        }
    }

    /// The PCP/NAT-PMP mapping kept for `key`, if any.
    public func portControlMapping(gatewayID: Int64, key: MappingKey) throws -> PortControlMapping? {
        try reading { db in try PortControlMapping.fetch(db, gatewayID: gatewayID, key: key) }
    }

    /// The mapping about to be requested, written before the request is sent: the row kept for
    /// its key with its nonce (a renewal, or a retry after the process died), else a new row
    /// with `newNonce`. A changed target replaces the row's target but never its nonce.
    public func preparePortControlMapping(gatewayID: Int64, key: MappingKey, via: GatewayProtocol, newNonce: String,
                                          internalClient: IPv4Address, internalPort: UInt16) throws -> PortControlMapping {
        guard newNonce.count == 24, newNonce.allSatisfy(\.isHexDigit) else { throw RegistryError.invalid("a PCP nonce is 24 hexadecimal digits, not '\(newNonce)'") }
        return try writing { db in
            try db.execute(sql: """
                INSERT INTO port_control_mapping (gateway_id, protocol, external_port, remote_host, via, nonce, internal_client, internal_port)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (gateway_id, protocol, external_port, remote_host)
                DO UPDATE SET via = excluded.via, internal_client = excluded.internal_client, internal_port = excluded.internal_port
                """, arguments: [gatewayID, key.protocol, Int64(key.externalPort), key.remoteHost, via, newNonce.lowercased(), internalClient, Int64(internalPort)])
            guard let row = try PortControlMapping.fetch(db, gatewayID: gatewayID, key: key) else {
                throw RegistryError.corrupt("the PCP mapping \(key) vanished while being written")
            }
            return row
        }
    }

    /// Records what the gateway granted for `key`: a renewal updates the row in place (no revision).
    public func recordGrant(gatewayID: Int64, key: MappingKey, via: GatewayProtocol, externalPort: UInt16, externalAddress: IPv4Address?,
                            lifetime: UInt32, at now: Date = Date()) throws {
        try writing { db in
            try db.execute(sql: """
                UPDATE port_control_mapping SET via = ?, assigned_external_port = ?, assigned_external_address = ?, lifetime = ?, granted = ?, expires = ?
                WHERE gateway_id = ? AND protocol = ? AND external_port = ? AND remote_host = ?
                """, arguments: [via, Int64(externalPort), externalAddress, Int64(lifetime), Storage.text(now),
                                 Storage.text(now.addingTimeInterval(TimeInterval(lifetime))),
                                 gatewayID, key.protocol, Int64(key.externalPort), key.remoteHost])
        }
    }

    /// The server lost its state (it restarted): none of its grants hold any more. The rows and
    /// their nonces stay, for the requests that make the mappings again.
    public func markPortControlLost(gatewayID: Int64) throws {
        try writing { db in
            try db.execute(sql: "UPDATE port_control_mapping SET granted = NULL, expires = NULL, lifetime = NULL WHERE gateway_id = ?", arguments: [gatewayID])
        }
    }

    /// Forgets a mapping deleted from the gateway (its nonce goes with it).
    public func forgetPortControlMapping(gatewayID: Int64, key: MappingKey) throws {
        try writing { db in
            try db.execute(sql: "DELETE FROM port_control_mapping WHERE gateway_id = ? AND protocol = ? AND external_port = ? AND remote_host = ?",
                           arguments: [gatewayID, key.protocol, Int64(key.externalPort), key.remoteHost])
        }
    }
}

extension PortControlMapping {
    init(row: Row) throws {
        let what = "a PCP mapping"
        key = MappingKey(protocol: try row.stored("protocol", of: what), externalPort: try row.stored("external_port", of: what),
                         remoteHost: try row.stored("remote_host", of: what))
        let about = "PCP mapping \(key)"
        via = try row.stored("via", of: about)
        nonce = try row.stored("nonce", of: about)
        internalClient = try row.stored("internal_client", of: about)
        internalPort = try row.stored("internal_port", of: about)
        assignedExternalPort = try row.stored("assigned_external_port", of: about)
        assignedExternalAddress = try row.stored("assigned_external_address", of: about)
        lifetime = try row.stored("lifetime", of: about)
        granted = try row.storedOptionalDate("granted", of: about)
        expires = try row.storedOptionalDate("expires", of: about)
    }

    static func fetch(_ db: Database, gatewayID: Int64, key: MappingKey) throws -> PortControlMapping? {
        try Row.fetchOne(db, sql: "SELECT * FROM port_control_mapping WHERE gateway_id = ? AND protocol = ? AND external_port = ? AND remote_host = ?",
                         arguments: [gatewayID, key.protocol, Int64(key.externalPort), key.remoteHost]).map(PortControlMapping.init(row:))
    }
}
