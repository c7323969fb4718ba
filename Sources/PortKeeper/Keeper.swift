import Foundation
import IGDClient
import IGDProtocol
import Logging
import MappingRegistry

/// The registry-backed use cases: declare, plan, reconcile, roll back.
///
/// Never holds a database transaction across network I/O: each registry call is its own short
/// transaction; the cross-process reconcile lock is a file lock, not a transaction.
public struct Keeper: Sendable {
    public let registry: Registry
    public let client: GatewayClient
    public var discovery: DiscoveryOptions
    /// Who acts: the CLI or `watch`.
    public var actor: RevisionActor
    /// The command line, for history.
    public var command: String
    /// How long a reconcile waits for another one to finish.
    public var lockWait: Duration = .seconds(30)
    /// Whether a reconcile extends the client's deadline by ``timePerOperation`` for each
    /// operation it plans (the CLI's default deadline); false when the user gave one.
    public var deadlineScalesWithWork = true
    let logger: Logger

    public init(registry: Registry, client: GatewayClient = GatewayClient(), discovery: DiscoveryOptions = DiscoveryOptions(),
                actor: RevisionActor = .cli, command: String, logger: Logger = Logger(label: "portkeeper"))
    {
        self.registry = registry
        self.client = client
        self.discovery = discovery
        self.actor = actor
        self.command = command
        self.logger = logger
    }

    // MARK: Gateways

    /// Records a gateway found on the network (discover, status, list do this).
    @discardableResult
    public func record(_ gateway: Gateway) throws -> (record: GatewayRecord, changes: [Change]) {
        try registry.recordGateway(Self.observed(gateway))
    }

    /// The known gateway `reference` names (UDN, prefix, friendly name), or the one at a
    /// description URL. Only when no gateway is known at all and none is named does discovery
    /// run, to find and record them; a name the registry does not know is an error, not a
    /// reason to search the network.
    public func gateway(_ reference: String?) async throws -> GatewayRecord {
        if let reference, reference.contains("://") {
            return try record(try await liveGateway(reference)).record
        }
        if reference == nil, try registry.gateways().isEmpty {
            let found = try await Inspector(client: client, discovery: discovery).gateways(.any)
            for gateway in found { try record(gateway) }
            if found.count > 1 { throw Inspector.several(found) }
        }
        return try registry.resolveGateway(reference)
    }

    /// The gateway as it is now, read from the network and recorded: from its URL, from the
    /// description URL the registry knows (found again by UDN if it moved), or by discovery.
    public func liveGateway(_ reference: String?, probe: GatewayClient.ProbePolicy = .always) async throws -> Gateway {
        let inspector = Inspector(client: client, discovery: discovery)
        let parsed = try GatewayReference(parsing: reference)
        let found: Gateway
        if case .descriptionURL = parsed {
            found = try await inspector.gateway(parsed, probe: probe)
        } else if let known = try? registry.resolveGateway(reference), let url = try? GatewayURL(parsing: known.descriptionURL) {
            do {
                found = try await explaining("reading the description of \(known.friendlyName)") { try await client.describe(url, probe: probe) }
            } catch let error as TransportError where error.suggestsGatewayMoved {
                logger.info("\(known.udn) did not answer at \(url); rediscovering")
                found = try await inspector.gateway(.udn(known.udn), probe: probe)
            }
        } else {
            found = try await inspector.gateway(parsed, probe: probe)
        }
        try record(found)
        return found
    }

    /// The gateway as it is now, for `status`: its external address must be known.
    /// - Throws: when GetExternalIPAddress fails, in one line naming the gateway.
    public func status(_ reference: String?) async throws -> Gateway {
        var found = try await liveGateway(reference)
        guard found.externalAddress == nil else { return found }
        do {
            found.externalAddress = try await client.perform(Actions.GetExternalIPAddress(), on: found.service)
            return found
        } catch {
            throw Failure.explain(error, doing: "asking \(found.friendlyName) (\(found.service.controlURL)) for its external address")
        }
    }

    /// Runs `body`, turning a gateway's failure into one line naming what was being done
    /// (registry errors and errors already explained pass as they are).
    func explaining<T>(_ what: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PortKeeperError {
            throw error
        } catch let error as RegistryError {
            throw error
        } catch let error as TransportError where error.suggestsGatewayMoved {
            // Kept typed: callers rediscover on it, and explain it when that fails too.
            throw error
        } catch {
            throw Failure.explain(error, doing: what)
        }
    }

    static func observed(_ gateway: Gateway) -> ObservedGateway {
        func service(_ s: ConnectionService) -> ObservedGateway.Service {
            .init(serviceType: s.type.rawValue, serviceId: s.serviceId, controlURL: s.controlURL.description)
        }
        return ObservedGateway(
            udn: gateway.udn, friendlyName: gateway.friendlyName, manufacturer: gateway.manufacturer,
            modelName: gateway.modelName, modelNumber: gateway.modelNumber, descriptionURL: gateway.descriptionURL.description,
            services: gateway.services.map(service), chosen: service(gateway.service), serviceChoice: gateway.choiceReason,
            bootID: gateway.bootID, externalAddress: gateway.externalAddress
        )
    }

    /// The stored control endpoint of a gateway.
    func service(of record: GatewayRecord) throws -> ConnectionService {
        guard let type = WANService(rawValue: record.serviceType) else {
            throw PortKeeperError("the registry holds an unknown service type \(record.serviceType) for \(record.friendlyName)")
        }
        return ConnectionService(type: type, serviceId: "", controlURL: try GatewayURL(parsing: record.controlURL), deviceUDN: record.udn)
    }

    /// Runs `body` against the gateway at its stored control URL; when that refuses or times
    /// out (a rebooted router on a new port or address), finds the gateway again by UDN,
    /// records where it is now, and runs `body` there.
    func withGateway<T: Sendable>(_ record: GatewayRecord, rediscover: Bool = true,
                                  _ body: (GatewayRecord, ConnectionService) async throws -> T) async throws -> (T, GatewayRecord, [Change]) {
        do {
            return (try await body(record, try service(of: record)), record, [])
        } catch let error as TransportError where error.suggestsGatewayMoved && rediscover {
            logger.info("gateway \(record.udn) did not answer at \(record.controlURL) (\(error)); rediscovering")
            let found = try await client.discover(discovery).gateways.first { $0.udn == record.udn }
            guard let found else {
                throw PortKeeperError("\(record.friendlyName) did not answer at \(record.controlURL) (\(error.detail)) and was not found again by discovery",
                                      hint: "check that the router is on and UPnP enabled, then try again")
            }
            let (moved, changes) = try self.record(found)
            return (try await body(moved, try service(of: moved)), moved, changes)
        }
    }

    // MARK: Declaring

    /// Declares a mapping (or changes a declared one's description, lease or enabled state).
    /// - Returns: the new revision, or nil when the declaration already said exactly this.
    /// - Throws: ``PortKeeperError`` when the key is declared with another target.
    public func declare(_ mapping: DeclaredMapping, gatewayID: Int64) throws -> Int64? {
        try registry.changeDeclaration(gatewayID: gatewayID, command: command, actor: actor) { current in
            var declaration = current
            let change: Change
            if let index = declaration.firstIndex(where: { $0.key == mapping.key }) {
                let existing = declaration[index]
                if existing == mapping { return nil }
                guard existing.client == mapping.client && existing.internalPort == mapping.internalPort else {
                    throw PortKeeperError("\(mapping.key) is already declared for \(existing.client):\(existing.internalPort)",
                                          hint: "remove it first with `portkeeper remove \(mapping.key.externalPort)/\(mapping.key.protocol.rawValue.lowercased())`")
                }
                declaration[index] = mapping
                change = Change(.redeclared, mapping.key, Self.describe(mapping))
            } else {
                declaration.append(mapping)
                change = Change(.declared, mapping.key, Self.describe(mapping))
            }
            return (declaration, [change], change.description)
        }
    }

    /// Removes a declared mapping.
    public func undeclare(_ key: MappingKey, gatewayID: Int64) throws -> Int64 {
        let revision = try registry.changeDeclaration(gatewayID: gatewayID, command: command, actor: actor) { current in
            var declaration = current
            guard let index = declaration.firstIndex(where: { $0.key == key }) else {
                throw PortKeeperError("\(key) is not declared", hint: "`portkeeper mappings` lists what is")
            }
            let removed = declaration.remove(at: index)
            let change = Change(.undeclared, key, Self.describe(removed))
            return (declaration, [change], change.description)
        }
        guard let revision else { throw PortKeeperError("\(key) is not declared") }
        return revision
    }

    static func describe(_ mapping: DeclaredMapping) -> String {
        var text = "→ \(mapping.client):\(mapping.internalPort)"
        if !mapping.description.isEmpty { text += " '\(mapping.description)'" }
        if mapping.leaseDuration > 0 { text += " lease \(mapping.leaseDuration) s" }
        if !mapping.enabled { text += " disabled" }
        return text
    }

    // MARK: Planning and reconciling

    /// What `plan` shows: the diff, what was found since the last reconcile, and the table read.
    public struct PlanReport: Sendable {
        public var gateway: GatewayRecord
        public var plan: Plan
        public var actual: [PortMappingEntry]
        public var found: [Change]
        public var hostAddress: IPv4Address
        /// Entries of the gateway's table that make no sense: ignored, never acted on.
        public var ignored: [InvalidPortMappingEntry] = []
    }

    /// The diff between the declaration and the gateway, changing nothing anywhere.
    public func plan(_ record: GatewayRecord, options: Planner.Options) async throws -> PlanReport {
        let (table, gateway, moves) = try await explaining("reading the mappings of \(record.friendlyName)") {
            try await withGateway(record) { _, service in try await client.portMappings(on: service) }
        }
        let actual = table.entries
        let host = try hostAddress(gateway)
        let declared = try registry.declarations(gatewayID: gateway.id)
        let owned = try registry.ownedKeys(gatewayID: gateway.id)
        let plan = Planner.plan(declared: declared, actual: actual, owned: owned, hostAddress: host,
                                permanentLeasesOnly: gateway.permanentLeasesOnly, descriptionLimit: gateway.descriptionLimit, options: options)
        let found = moves + (try foundChanges(gateway: gateway, actual: actual, owned: owned, declared: declared, host: host))
        return PlanReport(gateway: gateway, plan: plan, actual: actual, found: found, hostAddress: host, ignored: table.invalid)
    }

    /// The cheapest look that tells whether the gateway still matches: on IGDv2 one
    /// GetListOfPortMappings per declared protocol, else one GetSpecificPortMappingEntry per
    /// declared mapping. Writes nothing. `watch` reconciles only when this says no.
    /// - Returns: whether every declared mapping is there as declared, none needs renewing and
    ///   nothing portkeeper owns is left over; and when the next lease renewal falls due.
    public func quickCheck(_ record: GatewayRecord) async throws -> (inSync: Bool, nextRenewal: Duration?) {
        let declared = try registry.declarations(gatewayID: record.id)
        let owned = try registry.ownedKeys(gatewayID: record.id)
        guard try registry.unresolvedOperations(gatewayID: record.id).isEmpty else { return (false, nil) }
        // Entries portkeeper owns but no longer declares need a reconcile to go.
        guard owned.isSubset(of: Set(declared.map(\.key))) else { return (false, nil) }
        let service = try service(of: record)
        var seen: [PortMappingEntry] = []
        if service.type.isVersion2 && record.listOfPortMappingsWorks != false {
            for proto in Set(declared.map(\.key.protocol)).sorted(by: { $0.rawValue < $1.rawValue }) {
                do {
                    // Entries that make no sense are ignored here as in the planner.
                    let action = Actions.GetListOfPortMappings(protocol: proto)
                    seen += try action.decodeChecked(try await client.call(action, on: service, within: client.deadline)).entries
                } catch let error as UPnPError where error.code == UPnPError.portMappingNotFound {
                    continue
                }
            }
        } else {
            for mapping in declared {
                do {
                    seen.append(try await client.perform(Actions.GetSpecificPortMappingEntry(
                        remoteHost: mapping.key.remoteHost, externalPort: mapping.key.externalPort, protocol: mapping.key.protocol), on: service))
                } catch let error as UPnPError where error.code == UPnPError.noSuchEntryInArray {
                    return (false, nil)
                }
            }
        }
        let relevant = seen.filter { entry in declared.contains { $0.key == MappingKey(entry) } }
        let plan = Planner.plan(declared: declared, actual: relevant, owned: owned, hostAddress: try hostAddress(record),
                                permanentLeasesOnly: record.permanentLeasesOnly, descriptionLimit: record.descriptionLimit)
        return (!plan.hasWork && plan.conflicts.isEmpty, Self.nextRenewal(declared: declared, table: relevant))
    }

    /// What a reconcile did.
    public struct ReconcileReport: Sendable {
        public var gateway: GatewayRecord
        public var revision: Int64?
        public var plan: Plan
        public var changes: [Change]
        /// The gateway matches the declaration now (foreign entries aside).
        public var inSync: Bool
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
        /// Everything asked for was done.
        public var succeeded: Bool { inSync && unrestored.isEmpty && unreachable == nil }
    }

    /// How long a reconcile given a deadline may take beyond it for each operation it sends.
    public static let timePerOperation: Duration = .seconds(5)

    /// Makes the gateway match the declaration: journal, act, read back, record. One at a
    /// time per registry, across processes.
    /// - Parameters:
    ///   - revision: an existing revision to attach the work to (add, remove, rollback).
    ///   - foreignEntries: entries of other programs to re-create (rollback).
    ///   - shouldStop: asked before each operation; when it says yes the rest are skipped and
    ///     the journal and revision are completed with what was done (SIGTERM in `watch`).
    ///   - rediscover: look for the gateway by UDN when its stored URL does not answer (off
    ///     when it just said it is leaving: it will announce where it is when it is back).
    public func reconcile(_ record: GatewayRecord, options: Planner.Options, revision existing: Int64? = nil,
                          restoring foreignEntries: [PortMappingEntry] = [], rediscover: Bool = true,
                          shouldStop: @escaping @Sendable () -> Bool = { false }) async throws -> ReconcileReport {
        try await registry.withExclusiveLock(waitingAtMost: lockWait, activity: activity) {
            try await reconcileLocked(record, options: options, revision: existing, restoring: foreignEntries,
                                      rediscover: rediscover, shouldStop: shouldStop)
        }
    }

    func reconcileLocked(_ record: GatewayRecord, options: Planner.Options, revision existing: Int64?,
                         restoring foreignEntries: [PortMappingEntry], rediscover: Bool,
                         shouldStop: @Sendable () -> Bool) async throws -> ReconcileReport {
        let ((table, address), gateway, moves) = try await explaining("reading the mappings of \(record.friendlyName)") {
            try await withGateway(record, rediscover: rediscover) { gateway, service in
                (try await readTable(service, learningFor: gateway), try? await client.perform(Actions.GetExternalIPAddress(), on: service))
            }
        }
        let actual = table.entries
        var found = moves
        if let address, let change = try registry.recordAddress(gatewayID: gateway.id, address) {
            found.append(change)
        }
        let service = try service(of: gateway)
        let host = try hostAddress(gateway)

        // An operation whose outcome was never learned is resolved by reading, not replayed.
        var resolved: [Change] = []
        for operation in try registry.unresolvedOperations(gatewayID: gateway.id) {
            let outcome = Self.outcomeByReading(operation, table: actual)
            try registry.journalOutcome(operation.id, outcome)
            logger.info("operation \(operation.id) (\(operation.action.rawValue) \(operation.key)) resolved as \(outcome) by reading the gateway")
            resolved.append(Change(.foundChanged, operation.key, "unfinished \(operation.action.rawValue) of revision \(operation.revision) resolved as \(outcome) by reading the gateway"))
        }

        let declared = try registry.declarations(gatewayID: gateway.id)
        var owned = try registry.ownedKeys(gatewayID: gateway.id)
        found += try foundChanges(gateway: gateway, actual: actual, owned: owned, declared: declared, host: host)
        var permanentOnly = gateway.permanentLeasesOnly
        let plan = Planner.plan(declared: declared, actual: actual, owned: owned, hostAddress: host,
                                permanentLeasesOnly: permanentOnly, descriptionLimit: gateway.descriptionLimit, options: options)
        let restore = foreignEntries.filter { entry in !actual.contains { MappingKey($0) == MappingKey(entry) } }

        if !plan.hasWork && restore.isEmpty && found.isEmpty && resolved.isEmpty && existing == nil {
            // In sync: nothing is written but the time the gateway was seen (and the table, if
            // it changed in ways that need no action, such as a new foreign entry).
            try registry.touchGateway(gateway.id)
            try registry.recordObservation(gatewayID: gateway.id, entries: actual)
            return ReconcileReport(gateway: gateway, revision: nil, plan: plan, changes: [], inSync: plan.isInSync, remaining: plan,
                                   nextRenewal: Self.nextRenewal(declared: declared, table: actual), ignored: table.invalid)
        }

        // A command deadline grows with the work: each operation may take its own request's time.
        var sender = client
        let operationCount = plan.changeCount + plan.updates.count + plan.renewals.count + restore.count
        if let deadline = sender.deadline, deadlineScalesWithWork {
            sender.deadline = deadline.extended(by: Self.timePerOperation * operationCount)
        }

        let revision = try existing ?? registry.beginRevision(
            command: command, actor: actor, gatewayID: gateway.id, changes: [], summary: "reconcile"
        )
        var done: [Change] = []
        var unrestored: [(entry: PortMappingEntry, outcome: String)] = []
        var written: [MappingKey: String] = [:]
        var failures: [(key: MappingKey, error: PortKeeperError)] = []
        // Once the gateway stops answering, nothing more is sent to it.
        var unreachable: (any Error)?
        var notSent: [MappingKey] = []

        /// Sends one action; a failure is explained once, and a gateway that stopped
        /// answering is remembered.
        func attempt(_ action: String, _ key: MappingKey, _ body: () async throws -> Void) async -> OperationOutcome {
            let (result, error) = await outcome(body)
            if let error {
                if Self.meansUnreachable(error) { unreachable = error }
                failures.append((key, Failure.explain(error, doing: "\(action) \(key) on \(gateway.friendlyName)")))
            }
            return result
        }

        /// Journals an operation that was never sent, because the gateway had stopped answering.
        func skip(_ action: OperationAction, _ key: MappingKey, entry: PortMappingEntry?, before: PortMappingEntry?, reason: DeleteReason? = nil) throws {
            let id = try registry.journalIntent(revision: revision, gatewayID: gateway.id, action: action, key: key, entry: entry, deleteReason: reason, before: before)
            try registry.journalOutcome(id, .failed(Self.notSentReason))
            notSent.append(key)
            done.append(Change(.failed, key, "\(action.rawValue) \(Self.notSentReason)"))
        }

        func delete(_ entry: PortMappingEntry, reason: DeleteReason) async throws {
            let key = MappingKey(entry)
            if unreachable != nil { return try skip(.delete, key, entry: nil, before: entry, reason: reason) }
            let id = try registry.journalIntent(revision: revision, gatewayID: gateway.id, action: .delete, key: key, deleteReason: reason, before: entry)
            let outcome = await attempt("DeletePortMapping", key) {
                try await sender.perform(Actions.DeletePortMapping(remoteHost: entry.remoteHost, externalPort: entry.externalPort, protocol: entry.protocol), on: service)
            }
            try complete(id, outcome, action: "DeletePortMapping", key: key)
            if outcome == .upnp(UPnPError.noSuchEntryInArray) {
                // 714 on a delete: the mapping is already gone, so it is no longer portkeeper's.
                failures.removeLast()
                try registry.setOwned(key, gatewayID: gateway.id, revision: revision, owned: false)
                done.append(Change(.deleted, key, "already gone from the gateway (it answered \(Failure.fault(UPnPError.noSuchEntryInArray))); no longer recorded as portkeeper's"))
                return
            }
            done.append(outcome == .ok ? Change(.deleted, key, "\(entry.internalClient):\(entry.internalPort) '\(entry.description)' (\(reason.rawValue))")
                                       : Change(.failed, key, "DeletePortMapping: \(Failure.outcome(outcome))"))
        }

        func add(_ wanted: PortMappingEntry, kind: Change.Kind, foreign: Bool = false) async throws {
            var entry = wanted
            if permanentOnly { entry.leaseDuration = 0 }
            let key = MappingKey(entry)
            let before = actual.first { MappingKey($0) == key }
            if unreachable != nil {
                if foreign { unrestored.append((entry, Self.notSentReason)) }
                return try skip(.add, key, entry: entry, before: before)
            }
            var id = try registry.journalIntent(revision: revision, gatewayID: gateway.id, action: .add, key: key, entry: entry, before: before)
            var result = await attempt("AddPortMapping", key) { try await sender.perform(Actions.AddPortMapping(entry), on: service) }
            // 725 OnlyPermanentLeasesSupported, or 402 for a lease the gateway will not take:
            // retry with a permanent lease, and remember it for this gateway.
            if case .upnp(let code) = result, entry.leaseDuration != 0,
               code == UPnPError.onlyPermanentLeasesSupported || code == UPnPError.invalidArgs {
                try complete(id, result, action: "AddPortMapping", key: key)
                failures.removeLast()
                permanentOnly = true
                try registry.learn(gatewayID: gateway.id, permanentLeasesOnly: true)
                entry.leaseDuration = 0
                id = try registry.journalIntent(revision: revision, gatewayID: gateway.id, action: .add, key: key, entry: entry, before: before)
                result = await attempt("AddPortMapping", key) { try await sender.perform(Actions.AddPortMapping(entry), on: service) }
                done.append(Change(.updated, key, "the gateway accepts permanent leases only (\(Failure.fault(code))); lease set to 0"))
            }
            try complete(id, result, action: "AddPortMapping", key: key)
            if result == .ok { written[key] = entry.description }
            if foreign && result == .ok {
                // Re-created for another program: still not portkeeper's.
                try registry.setOwned(key, gatewayID: gateway.id, revision: revision, owned: false)
            } else if foreign {
                unrestored.append((entry, Failure.outcome(result)))
            }
            done.append(result == .ok ? Change(kind, key, "→ \(entry.internalClient):\(entry.internalPort) '\(entry.description)'" + (foreign ? " (re-created for another program)" : ""))
                                      : Change(.failed, key, "AddPortMapping: \(Failure.outcome(result))"))
        }

        // Each step is one journaled operation (or a delete and an add that belong together);
        // a stop request is honoured between steps.
        var steps: [() async throws -> Void] = []
        for item in plan.deletes {
            steps.append { try await delete(item.current, reason: item.reason == .pruned ? .pruned : .noLongerDeclared) }
        }
        for item in plan.replacements {
            steps.append {
                try await delete(item.holder, reason: .replaced)
                try await add(item.entry, kind: .replaced)
            }
        }
        for item in plan.updates {
            steps.append {
                if item.needsDelete { try await delete(item.current, reason: .moved) }
                try await add(item.entry, kind: .updated)
            }
        }
        for item in plan.adds { steps.append { try await add(item.entry, kind: .added) } }
        for item in plan.renewals { steps.append { try await add(item.entry, kind: .renewed) } }
        for entry in restore { steps.append { try await add(entry, kind: .added, foreign: true) } }
        var stopped = false
        for step in steps {
            if shouldStop() {
                stopped = true
                break
            }
            try await step()
        }

        if let unreachable {
            // Not read back either: the gateway does not answer. What was sent and not answered
            // is resolved by reading at the next reconcile.
            let changes = found + resolved + done
            try registry.completeRevision(revision, adding: changes, summary: Self.summary(changes, inSync: false))
            let why = Failure.explain(unreachable, doing: "reconciling \(gateway.friendlyName)")
            let unreachableError = PortKeeperError(
                why.message + (notSent.isEmpty ? "" : "; \(notSent.count) operation\(notSent.count == 1 ? " was" : "s were") not sent"),
                hint: "nothing more was sent to it; check the router, then run `portkeeper reconcile` again")
            return ReconcileReport(gateway: gateway, revision: revision, plan: plan, changes: changes, inSync: false, remaining: plan,
                                   unrestored: unrestored, nextRenewal: nil, stopped: stopped, unreachable: unreachableError,
                                   notSent: notSent, failures: failures, ignored: table.invalid)
        }

        // Read back: what is true now, not what was hoped.
        let readBack = try await explaining("reading back the mappings of \(gateway.friendlyName)") { try await sender.portMappings(on: service) }
        let after = readBack.entries
        for operation in try registry.unresolvedOperations(gatewayID: gateway.id) {
            try registry.journalOutcome(operation.id, Self.outcomeByReading(operation, table: after))
        }
        try registry.recordObservation(gatewayID: gateway.id, entries: after)
        owned = try registry.ownedKeys(gatewayID: gateway.id)
        // A description the gateway kept only the start of tells its limit: learned once, so
        // that the mapping converges after one write.
        var descriptionLimit = gateway.descriptionLimit
        for entry in after {
            guard let sent = written[MappingKey(entry)], let limit = Planner.learnedDescriptionLimit(written: sent, kept: entry.description) else { continue }
            descriptionLimit = min(descriptionLimit ?? limit, limit)
        }
        if descriptionLimit != gateway.descriptionLimit, let descriptionLimit {
            try registry.learn(gatewayID: gateway.id, descriptionLimit: descriptionLimit)
        }
        let remaining = Planner.plan(declared: declared, actual: after, owned: owned, hostAddress: host,
                                     permanentLeasesOnly: permanentOnly, descriptionLimit: descriptionLimit,
                                     options: Planner.Options(prune: options.prune))
        let changes = found + resolved + done
        try registry.completeRevision(revision, adding: changes, summary: Self.summary(changes, inSync: remaining.isInSync))
        return ReconcileReport(gateway: gateway, revision: revision, plan: plan, changes: changes, inSync: remaining.isInSync,
                               remaining: remaining, unrestored: unrestored,
                               nextRenewal: Self.nextRenewal(declared: declared, table: after), stopped: stopped,
                               failures: failures, ignored: readBack.invalid)
    }

    /// Completes an operation journaled and sent. When the registry cannot record it (the disk
    /// full, the file made read-only meanwhile) the operation stays pending in the journal, so
    /// the next reconcile resolves it by reading the gateway; the error says so.
    func complete(_ id: Int64, _ outcome: OperationOutcome, action: String, key: MappingKey) throws {
        do {
            try registry.journalOutcome(id, outcome)
        } catch let error as RegistryError {
            throw RegistryError(error.kind, "\(action) \(key) reached the gateway but its outcome could not be recorded: \(error.message); "
                                + "then `portkeeper reconcile` finds it on the gateway and records it")
        }
    }

    /// What this keeper's command is doing, in a word, for the lock file: "reconcile", "add",
    /// "watch" (the command line's first word that is not an option, after the program's name).
    var activity: String? {
        command.split(separator: " ").dropFirst().first { !$0.hasPrefix("-") }.map(String.init)
    }

    /// The soonest renewal among the declared mappings the table holds.
    static func nextRenewal(declared: [DeclaredMapping], table: [PortMappingEntry]) -> Duration? {
        let current = Dictionary(table.map { (MappingKey($0), $0) }, uniquingKeysWith: { a, _ in a })
        return declared.compactMap { mapping in
            current[mapping.key].flatMap { Planner.renewalDue(declaredLease: mapping.leaseDuration, current: $0) }
        }.min()
    }

    /// What an operation of unknown outcome did, told by the gateway's table.
    static func outcomeByReading(_ operation: JournaledOperation, table: [PortMappingEntry]) -> OperationOutcome {
        let present = table.first { MappingKey($0) == operation.key }
        switch operation.action {
        case .add:
            return present != nil && present?.internalClient == operation.entry?.internalClient ? .ok : .failed("not on the gateway when read")
        case .delete:
            return present == nil ? .ok : .failed("still on the gateway when read")
        }
    }

    /// Maps what an action threw to a journal outcome, keeping the error.
    func outcome(_ body: () async throws -> Void) async -> (OperationOutcome, (any Error)?) {
        do {
            try await body()
            return (.ok, nil)
        } catch let error as UPnPError {
            return (.upnp(error.code), error)
        } catch {
            // A timeout or a broken answer: the gateway may have acted. Resolved by reading.
            return (.unknown("\(error)"), error)
        }
    }

    /// What the journal says of an operation not sent because the gateway had stopped answering.
    public static let notSentReason = "not sent: the gateway had stopped answering"

    /// A failure after which nothing more is sent to the gateway: it did not answer in time,
    /// refused the connection, or the command's deadline ran out.
    static func meansUnreachable(_ error: any Error) -> Bool {
        if error is DeadlineExceeded { return true }
        if let error = error as? TransportError { return error.suggestsGatewayMoved }
        return false
    }

    /// Reads the table and remembers how the gateway answered (whether GetListOfPortMappings
    /// works, how its list ends), writing only when that is news.
    func readTable(_ service: ConnectionService, learningFor gateway: GatewayRecord) async throws -> PortMappingTable {
        let table = try await client.portMappings(on: service)
        let works: Bool? = switch table.method {
        case .listOfPortMappings: true
        case .genericEntryWalk: service.type.isVersion2 ? false : nil
        }
        let end = table.method == .genericEntryWalk ? table.note : nil
        if (works != nil && works != gateway.listOfPortMappingsWorks) || (end != nil && end != gateway.listEnd) {
            try registry.learn(gatewayID: gateway.id, listEnd: end, listOfPortMappingsWorks: works)
        }
        return table
    }

    func hostAddress(_ gateway: GatewayRecord) throws -> IPv4Address {
        let url = try GatewayURL(parsing: gateway.controlURL)
        do {
            return try LocalAddress.facing(url.host)
        } catch {
            throw PortKeeperError("cannot tell this host's address towards \(url.host): \(error)")
        }
    }

    /// What changed on the gateway since the last reconcile that portkeeper did not do:
    /// its own entries lost (a reboot, a lease expiry, a cleanup) or changed by someone else.
    ///
    /// Also this host's address changing (DHCP): the mappings declared for "this host" move
    /// with it (the plan updates them), and entries of other programs still pointing at the old
    /// address are reported.
    func foundChanges(gateway: GatewayRecord, actual: [PortMappingEntry], owned: Set<MappingKey>,
                      declared: [DeclaredMapping], host: IPv4Address) throws -> [Change] {
        guard let last = try registry.lastObservation(gatewayID: gateway.id) else { return [] }
        var addressChanges: [Change] = []
        let followers = Set(declared.filter { $0.client == .thisHost }.map(\.key))
        let oldAddresses = Set(last.filter { followers.contains(MappingKey($0)) && owned.contains(MappingKey($0)) }.map(\.internalClient))
            .subtracting([host.description]).filter { IPv4Address($0) != nil }
        for old in oldAddresses.sorted() {
            addressChanges.append(Change(.hostAddressChanged, nil, "this host's address changed from \(old) to \(host): mappings declared for this host move with it"))
            for entry in actual where !owned.contains(MappingKey(entry)) && entry.internalClient == old {
                addressChanges.append(Change(.foundChanged, MappingKey(entry), "\(entry.internalClient):\(entry.internalPort) '\(entry.description)' is not portkeeper's and still points at this host's old address \(old)"))
            }
        }
        let now = Dictionary(actual.map { (MappingKey($0), $0) }, uniquingKeysWith: { first, _ in first })
        var changes: [Change] = []
        var lost = 0
        let ours = last.filter { owned.contains(MappingKey($0)) }
        for entry in ours {
            let key = MappingKey(entry)
            guard let current = now[key] else {
                lost += 1
                changes.append(Change(.foundMissing, key, "\(entry.internalClient):\(entry.internalPort) '\(entry.description)' is gone from the gateway"))
                continue
            }
            if current.internalClient != entry.internalClient || current.internalPort != entry.internalPort {
                changes.append(Change(.foundChanged, key, "now → \(current.internalClient):\(current.internalPort) (was \(entry.internalClient):\(entry.internalPort))"))
            }
        }
        if lost > 1 && lost == ours.count {
            changes.insert(Change(.foundMissing, nil, "all \(lost) of portkeeper's mappings are gone: the gateway probably rebooted"), at: 0)
        }
        return addressChanges + changes
    }

    static func summary(_ changes: [Change], inSync: Bool) -> String {
        var counts: [Change.Kind: Int] = [:]
        for change in changes where change.key != nil { counts[change.kind, default: 0] += 1 }
        let order: [Change.Kind] = [.foundMissing, .foundChanged, .added, .updated, .replaced, .deleted, .renewed, .failed]
        var parts = order.compactMap { kind in counts[kind].map { "\(kind.rawValue) \($0)" } }
        if changes.contains(where: { $0.kind == .addressChanged }) { parts.append("external address changed") }
        if changes.contains(where: { $0.kind == .gatewayMoved }) { parts.append("gateway moved") }
        if changes.contains(where: { $0.kind == .hostAddressChanged }) { parts.append("this host's address changed") }
        if parts.isEmpty { parts.append("nothing to do") }
        return parts.joined(separator: ", ") + (inSync ? "" : " (not in sync)")
    }

    // MARK: Rollback

    /// Restores the declaration as it was right after `revision`, as a new revision, and
    /// unless `apply` is false reconciles, re-creating the entries of other programs that
    /// `--prune` or `--force` deleted since.
    public func rollback(to revision: Int64, apply: Bool) async throws -> (revision: Int64, report: ReconcileReport?) {
        guard let gatewayID = try registry.revisionGateway(revision) else {
            throw PortKeeperError("revision \(revision) concerns no gateway", hint: "`portkeeper history` lists revisions and their gateways")
        }
        guard let record = try registry.gateway(id: gatewayID) else { throw PortKeeperError("the gateway of revision \(revision) is gone from the registry") }
        let target = try registry.declaration(afterRevision: revision, gatewayID: gatewayID)
        let foreign = try registry.foreignEntriesDeleted(afterRevision: revision, gatewayID: gatewayID)
        let restored = try registry.changeDeclaration(gatewayID: gatewayID, command: command, actor: actor) { current in
            var changes = [Change(.rolledBack, nil, "declaration restored to revision \(revision)")]
            let targetKeys = Dictionary(target.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
            let currentKeys = Dictionary(current.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
            for (key, mapping) in targetKeys.sorted(by: { $0.key < $1.key }) where currentKeys[key] != mapping {
                changes.append(Change(currentKeys[key] == nil ? .declared : .redeclared, key, Self.describe(mapping)))
            }
            for (key, mapping) in currentKeys.sorted(by: { $0.key < $1.key }) where targetKeys[key] == nil {
                changes.append(Change(.undeclared, key, Self.describe(mapping)))
            }
            return (target, changes, "rollback to revision \(revision)")
        }
        guard let newRevision = restored else { throw PortKeeperError("the rollback to revision \(revision) recorded nothing") }
        guard apply else { return (newRevision, nil) }
        let report = try await reconcile(record, options: Planner.Options(), revision: newRevision, restoring: foreign)
        return (newRevision, report)
    }
}
