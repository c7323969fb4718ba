import Foundation
import IGDClient
import IGDProtocol
import MappingRegistry
import PortKeeper

// The JSON documents of `--json` (README, "JSON output"; one JSON Schema per document in
// schemas/). Every document is an object carrying `formatVersion`; a field is always present,
// null where there is no value; one name per concept in every document: `descriptionURL`,
// `externalIP`, `gateway` ({udn, friendlyName}), `key` ({protocol, externalPort, remoteHost}),
// a mapping's fields as `list` shows them.

/// The version of every JSON document portkeeper writes. Raised when a field changes meaning
/// or goes away; adding a field does not raise it.
let jsonFormatVersion = 1

extension Render {
    /// A document, pretty-printed with sorted keys.
    static func json(_ value: some Encodable) -> String {
        encode(value, pretty: true)
    }

    /// One line of JSON (a `watch --json` event, an error on stderr).
    static func jsonLine(_ value: some Encodable) -> String {
        encode(value, pretty: false)
    }

    private static func encode(_ value: some Encodable, pretty: Bool) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// An optional written as null rather than left out, so that every field of a document is
/// always there.
@propertyWrapper
struct Null<Value: Encodable>: Encodable {
    var wrappedValue: Value?
    init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }
    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
    }
}

// MARK: Pieces shared by the documents

/// `{udn, friendlyName}`: which gateway a document is about.
struct GatewayRefJSON: Encodable {
    var udn, friendlyName: String
    init(_ g: GatewayRecord) { udn = g.udn; friendlyName = g.friendlyName }
    init(_ g: Gateway) { udn = g.udn; friendlyName = g.friendlyName }
}

/// `{protocol, externalPort, remoteHost}`: what identifies a mapping on a gateway.
struct KeyJSON: Encodable {
    var `protocol`: String
    var externalPort: UInt16
    var remoteHost: String
    init(_ key: MappingKey) {
        self.protocol = key.protocol.rawValue
        externalPort = key.externalPort
        remoteHost = key.remoteHost
    }
}

/// A mapping: an entry of the gateway's table, a declared mapping ("this-host" as its client
/// when it follows this machine), or either side of a change. The library's own value, encoded
/// as it is: its field names are the JSON's.
typealias MappingJSON = MappingState

/// A change: its kind, the mapping's key, the mapping before and after, and the sentence the
/// text output shows.
struct ChangeJSON: Encodable {
    var kind: String
    @Null var key: KeyJSON?
    @Null var before: MappingJSON?
    @Null var after: MappingJSON?
    var summary: String
    init(_ change: Change) {
        kind = change.kind.rawValue
        key = change.key.map(KeyJSON.init)
        before = change.before
        after = change.after
        summary = change.detail
    }
}

/// A failure: the stable code of its kind, what happened, and what to try.
struct ErrorJSON: Encodable {
    var code: String
    var message: String
    @Null var hint: String?

    init(code: String, message: String, hint: String?) {
        self.code = code
        self.message = message
        self.hint = hint
    }

    init(_ error: PortKeeperError) {
        self.init(code: error.kind.code, message: error.message, hint: ErrorRendering.advice(error.context) ?? error.hint)
    }
}

/// `{"formatVersion":1,"error":{…}}`: a failure under --json, one line on stderr.
struct ErrorDocument: Encodable {
    var formatVersion = jsonFormatVersion
    var error: ErrorJSON
}

// MARK: The documents

/// discover --json: the UPnP gateways in `gateways` as before, each with the protocols it
/// answered over; the gateways that answered NAT-PMP/PCP only in `portControlGateways`.
struct DiscoverDocument: Encodable {
    var formatVersion = jsonFormatVersion
    var gateways: [GatewayJSON]
    var portControlGateways: [PortControlGatewayJSON]
    /// "IPv4:PORT" the NAT-PMP/PCP probe went to; null when none was sent.
    @Null var portControlServer: String?

    init(_ discovery: Inspector.Discovery) {
        let found = discovery.found
        gateways = found.compactMap { entry in entry.upnp.map { GatewayJSON($0, found: entry) } }
        portControlGateways = found.filter { $0.upnp == nil }.map(PortControlGatewayJSON.init)
        portControlServer = discovery.portControlServer.map { "\($0.address):\($0.port)" }
    }
}

/// What one protocol said to discover.
struct ProtocolJSON: Encodable {
    var `protocol`: String
    /// answered, no-answer, not-asked, unsupported (PCP refused by a NAT-PMP server).
    var status: String
    @Null var externalIP: String?
    @Null var addressClass: String?
    @Null var epoch: UInt32?
    @Null var version: UInt8?
    @Null var result: String?

    init(_ report: ProtocolReport) {
        `protocol` = report.protocol.rawValue
        status = report.status.rawValue
        externalIP = report.externalAddress?.reported
        addressClass = report.externalAddress?.addressClass.rawValue
        epoch = report.epoch
        version = report.version
        result = report.result
    }
}

/// A gateway that answered NAT-PMP or PCP and not UPnP IGD.
struct PortControlGatewayJSON: Encodable {
    var identity, friendlyName, lanAddress: String
    @Null var hardwareAddress: String?
    var protocols: [ProtocolJSON]
    var preferredProtocol, protocolChoice: String

    init(_ entry: Inspector.FoundGateway) {
        identity = entry.identity
        friendlyName = entry.friendlyName
        lanAddress = entry.lanAddress.description
        hardwareAddress = entry.hardwareAddress
        protocols = entry.reports.map(ProtocolJSON.init)
        let choice = entry.choice()
        preferredProtocol = choice?.protocol.rawValue ?? ""
        protocolChoice = choice?.reason ?? ""
    }
}

struct GatewayJSON: Encodable {
    var udn, friendlyName, manufacturer, modelName, modelNumber, descriptionURL, serviceType, controlURL, serviceChoice: String
    @Null var externalIP: String?
    @Null var addressClass: String?
    @Null var doubleNAT: Bool?
    @Null var doubleNATExplanation: String?
    @Null var connectionStatus: String?
    @Null var uptime: UInt32?
    // How it answered over each protocol, and which one portkeeper uses (added with NAT-PMP/PCP).
    var lanAddress: String
    @Null var hardwareAddress: String?
    var protocols: [ProtocolJSON]
    var preferredProtocol, protocolChoice: String

    init(_ g: Gateway, found entry: Inspector.FoundGateway) {
        lanAddress = entry.lanAddress.description
        hardwareAddress = entry.hardwareAddress
        protocols = entry.reports.map(ProtocolJSON.init)
        let choice = entry.choice()
        preferredProtocol = choice?.protocol.rawValue ?? GatewayProtocol.upnp.rawValue
        protocolChoice = choice?.reason ?? ""
        udn = g.udn
        friendlyName = g.friendlyName
        manufacturer = g.manufacturer
        modelName = g.modelName
        modelNumber = g.modelNumber
        descriptionURL = g.descriptionURL.description
        serviceType = g.service.type.rawValue
        controlURL = g.service.controlURL.description
        serviceChoice = g.choiceReason
        externalIP = g.externalAddress?.reported
        addressClass = g.externalAddress?.addressClass.rawValue
        doubleNAT = g.externalAddress?.isDoubleNAT
        doubleNATExplanation = g.externalAddress?.doubleNATExplanation
        connectionStatus = g.status?.connectionStatus
        uptime = g.status?.uptime
    }
}

/// status --json.
struct StatusDocument: Encodable {
    var formatVersion = jsonFormatVersion
    var gateway: GatewayRefJSON
    @Null var externalIP: String?
    @Null var addressClass: String?
    @Null var doubleNAT: Bool?
    @Null var doubleNATExplanation: String?
    @Null var connectionStatus: String?
    @Null var lastConnectionError: String?
    @Null var uptime: UInt32?

    init(_ g: Gateway) {
        gateway = GatewayRefJSON(g)
        externalIP = g.externalAddress?.reported
        addressClass = g.externalAddress?.addressClass.rawValue
        doubleNAT = g.externalAddress?.isDoubleNAT
        doubleNATExplanation = g.externalAddress?.doubleNATExplanation
        connectionStatus = g.status?.connectionStatus
        lastConnectionError = g.status?.lastConnectionError
        uptime = g.status?.uptime
    }

    /// A gateway reached over PCP or NAT-PMP: no connection status; the uptime is its server's
    /// epoch (seconds since it last lost its state).
    init(_ g: GatewayRecord, external: ExternalAddress?, epochSeconds: UInt32?) {
        gateway = GatewayRefJSON(g)
        externalIP = external?.reported
        addressClass = external?.addressClass.rawValue
        doubleNAT = external?.isDoubleNAT
        doubleNATExplanation = external?.doubleNATExplanation
        uptime = epochSeconds
    }
}

/// list --json: the gateway's own table.
struct ListDocument: Encodable {
    var formatVersion = jsonFormatVersion
    var gateway: GatewayRefJSON
    /// How the table was read (GetListOfPortMappings, GetGenericPortMappingEntry).
    var method: String
    var mappings: [MappingJSON]
    /// Entries that make no sense, left out of `mappings` and never acted on.
    var ignored: [String]

    /// Null when read from the gateway; for PCP and NAT-PMP, which cannot list, why the
    /// mappings are the registry's.
    @Null var note: String?
    /// What the gateway granted for each mapping portkeeper made, as last verified (PCP, NAT-PMP).
    var granted: [ListGrantJSON] = []

    init(_ table: PortMappingTable, gateway: Gateway) {
        self.gateway = GatewayRefJSON(gateway)
        method = table.method.rawValue
        mappings = table.entries.map(MappingJSON.init)
        ignored = table.invalid.map(\.description)
    }

    init(portControl gateway: GatewayRecord, entries: [PortMappingEntry], granted: [MappingKey: GrantedMapping]) {
        self.gateway = GatewayRefJSON(gateway)
        method = ListingMethod.portControl.rawValue
        mappings = entries.filter { granted[MappingKey($0)] != nil }.map(MappingJSON.init)
        ignored = []
        note = Render.cannotList(gateway)
        self.granted = granted.values.sorted { $0.key < $1.key }.map(ListGrantJSON.init)
    }
}

/// A grant with its key, in `list --json`.
struct ListGrantJSON: Encodable {
    var key: KeyJSON
    var granted: GrantedJSON
    init(_ g: GrantedMapping) {
        key = KeyJSON(g.key)
        granted = GrantedJSON(g)
    }
}

/// gateways --json: what the registry knows.
struct GatewaysDocument: Encodable {
    var formatVersion = jsonFormatVersion
    var gateways: [GatewayRecordJSON]
}

struct GatewayRecordJSON: Encodable {
    var udn, friendlyName, manufacturer, modelName: String
    /// Null for a gateway that speaks only PCP or NAT-PMP.
    @Null var descriptionURL: String?
    @Null var serviceType: String?
    @Null var controlURL: String?
    var serviceChoice: String
    /// The protocols it was seen answering ("upnp", "pcp", "natpmp"), the one its mappings are
    /// made over and why, and the one the user chose, if any.
    var protocols: [String]
    var `protocol`: String
    var protocolReason: String
    @Null var declaredProtocol: String?
    /// Where PCP or NAT-PMP answered (its LAN address).
    @Null var portControlServer: String?
    @Null var externalIP: String?
    var permanentLeasesOnly: Bool
    @Null var descriptionLimit: Int?
    @Null var listOfPortMappingsWorks: Bool?
    var firstSeen, lastSeen: String
    init(_ g: GatewayRecord) {
        udn = g.udn
        friendlyName = g.friendlyName
        manufacturer = g.manufacturer
        modelName = g.modelName
        descriptionURL = g.descriptionURL?.description
        serviceType = g.serviceType?.rawValue
        controlURL = g.controlURL?.description
        serviceChoice = g.serviceChoice
        protocols = GatewayProtocol.allCases.filter(g.protocols.contains).map(\.rawValue)
        (`protocol`, protocolReason) = { let (chosen, reason) = g.mappingProtocol; return (chosen.rawValue, reason) }()
        declaredProtocol = g.declaredProtocol?.rawValue
        portControlServer = g.portControlServer?.description
        externalIP = g.externalAddress
        permanentLeasesOnly = g.permanentLeasesOnly
        descriptionLimit = g.descriptionLimit
        listOfPortMappingsWorks = g.listOfPortMappingsWorks
        firstSeen = g.firstSeen.formatted(.iso8601)
        lastSeen = g.lastSeen.formatted(.iso8601)
    }
}

/// mappings --json: the declaration, every gateway's.
struct MappingsDocument: Encodable {
    struct Declared: Encodable {
        var gateway: GatewayRefJSON
        var mapping: MappingJSON
        /// What the gateway granted, as last known; null when nothing was granted (yet).
        @Null var granted: GrantedJSON?
    }
    var formatVersion = jsonFormatVersion
    var mappings: [Declared]

    init(_ all: [(gateway: GatewayRecord, mappings: [DeclaredMapping], granted: [MappingKey: GrantedMapping])]) {
        mappings = all.flatMap { gateway, mappings, granted in
            mappings.map { Declared(gateway: GatewayRefJSON(gateway), mapping: MappingJSON($0), granted: granted[$0.key].map(GrantedJSON.init)) }
        }
    }
}

/// `{via, externalPort, externalAddress, lifetime, verified, expires}`: what a gateway granted.
struct GrantedJSON: Encodable {
    var via: String
    var externalPort: UInt16
    @Null var externalAddress: String?
    @Null var lifetime: UInt32?
    @Null var verified: String?
    @Null var expires: String?
    init(_ g: GrantedMapping) {
        via = g.via.rawValue
        externalPort = g.externalPort
        externalAddress = g.externalAddress
        lifetime = g.lifetime
        verified = g.verified?.formatted(.iso8601)
        expires = g.expires?.formatted(.iso8601)
    }
}

/// history --json.
struct HistoryDocument: Encodable {
    struct Revision: Encodable {
        var revision: Int64
        var time: String
        var actor: String
        var command: String
        var summary: String
        var changes: [ChangeJSON]
        init(_ r: RevisionRecord) {
            revision = r.number
            time = r.time.formatted(.iso8601)
            actor = r.actor.rawValue
            command = r.command
            summary = r.summary
            changes = r.changes.map(ChangeJSON.init)
        }
    }
    var formatVersion = jsonFormatVersion
    var revisions: [Revision]
    init(_ revisions: [RevisionRecord]) { self.revisions = revisions.map(Revision.init) }
}

/// One document for everything that plans or reconciles: `plan`, `reconcile` (with
/// `--dry-run` or not), `apply`, `add`, `remove` and `rollback`. A dry run lists the operations
/// it would send with status `planned`; a reconcile lists the same operations, each `done`,
/// `failed` or `not-attempted`.
struct ReconcileDocument: Encodable {
    struct Operation: Encodable {
        var kind: String
        var key: KeyJSON
        @Null var before: MappingJSON?
        @Null var after: MappingJSON?
        var reason: String
        var status: String
        /// What it changed, as `history` records it.
        var changes: [ChangeJSON]
        @Null var error: ErrorJSON?
        init(_ report: OperationReport) {
            kind = report.operation.kind.rawValue
            key = KeyJSON(report.operation.key)
            before = report.operation.before
            after = report.operation.after
            reason = report.operation.reason
            status = report.status.rawValue
            changes = report.changes.map(ChangeJSON.init)
            error = report.error.map(ErrorJSON.init)
        }
    }
    struct Conflict: Encodable {
        var key: KeyJSON
        var declared: MappingJSON
        var holder: MappingJSON
        init(_ c: Plan.Conflict) {
            key = KeyJSON(c.declared.key)
            declared = MappingJSON(c.entry)
            holder = MappingJSON(c.holder)
        }
    }
    struct NotRestored: Encodable {
        var mapping: MappingJSON
        var reason: String
    }

    var formatVersion = jsonFormatVersion
    /// True: nothing was sent (plan, --dry-run); every operation is `planned`.
    var dryRun: Bool
    var gateway: GatewayRefJSON
    /// The revision recorded (the declaration's, which the reconcile joins), if any.
    @Null var revision: Int64?
    /// What the declaration changed (add, remove, apply, rollback) or would change (plan -f).
    var declaration: [ChangeJSON]
    /// What was found on the gateway that portkeeper did not do.
    var found: [ChangeJSON]
    var operations: [OperationJSON]
    /// Declared ports held by another client (left alone without --force).
    var conflicts: [Conflict]
    /// Entries of other programs, left alone.
    var foreign: [MappingJSON]
    /// Entries of the gateway's table that make no sense, never acted on.
    var ignored: [String]
    /// Entries of other programs a rollback could not re-create.
    var notRestored: [NotRestored]
    /// Whether the gateway matches the declaration: before anything is sent in a dry run,
    /// after the reconcile otherwise; null when nothing was reconciled (--no-apply).
    @Null var inSync: Bool?
    /// Why nothing more was sent to the gateway, when it stopped answering.
    @Null var stoppedAnswering: ErrorJSON?

    typealias OperationJSON = Operation

    /// A plan: what a reconcile would send, nothing sent.
    init(plan report: Keeper.PlanReport) {
        dryRun = true
        gateway = GatewayRefJSON(report.gateway)
        revision = nil
        declaration = report.declarationChanges.map(ChangeJSON.init)
        found = report.found.map(ChangeJSON.init)
        operations = Keeper.operations(of: report.plan, table: report.actual).map { Operation(OperationReport(operation: $0, status: .planned)) }
        conflicts = report.plan.conflicts.map(Conflict.init)
        foreign = report.plan.foreign.map(MappingJSON.init)
        ignored = report.ignored.map(\.description)
        notRestored = []
        inSync = report.plan.isInSync
        stoppedAnswering = nil
    }

    /// A reconcile done; `declaration`: what the revision it joined changed in the declaration.
    init(_ report: Keeper.ReconcileReport, declaration: [Change] = []) {
        dryRun = false
        gateway = GatewayRefJSON(report.gateway)
        revision = report.revision
        self.declaration = declaration.map(ChangeJSON.init)
        found = report.found.map(ChangeJSON.init)
        operations = report.operations.map(Operation.init)
        conflicts = report.remaining.conflicts.map(Conflict.init)
        foreign = report.remaining.foreign.map(MappingJSON.init)
        ignored = report.ignored.map(\.description)
        notRestored = report.unrestored.map { NotRestored(mapping: MappingJSON($0.entry), reason: $0.outcome) }
        inSync = report.inSync
        stoppedAnswering = report.unreachable.map(ErrorJSON.init)
    }

    /// A declaration changed and not applied (--no-apply).
    init(gateway record: GatewayRecord, revision: Int64?, declaration: [Change]) {
        dryRun = false
        gateway = GatewayRefJSON(record)
        self.revision = revision
        self.declaration = declaration.map(ChangeJSON.init)
        found = []
        operations = []
        conflicts = []
        foreign = []
        ignored = []
        notRestored = []
        inSync = nil
        stoppedAnswering = nil
    }
}
