import Foundation
import IGDClient
import IGDProtocol
import MappingRegistry
import PCPProtocol
import PortKeeperModel

/// Finding a recorded gateway where it is now, and reaching its mappings.
extension Keeper {
    /// Records a gateway found on the network (discover, status, list do this). What changed
    /// about it (it moved, its external address changed) goes to history as a revision of this
    /// keeper's command, so `history` tells it whichever command saw it first.
    @discardableResult
    public func record(_ gateway: Gateway) throws -> (record: GatewayRecord, changes: [Change]) {
        try registry.recordGateway(Self.observed(gateway), recordedBy: author)
    }

    /// Who this keeper's revisions are recorded as made by.
    var author: RevisionAuthor { RevisionAuthor(command: command, actor: actor) }

    /// Asks the server at `address` (UDP 5351) over PCP (ANNOUNCE) and NAT-PMP (external
    /// address) at once, and records the gateway with what answered (one gateway with the UPnP
    /// one at that address, if any).
    /// - Throws: ``PortKeeperError`` `gatewayUnreachable` when neither answers.
    @discardableResult
    public func probePortControl(at address: IPv4Address) async throws -> (record: GatewayRecord, changes: [Change]) {
        let deadline = client.deadline ?? Deadline("the PCP/NAT-PMP probe", in: client.limits.deadline)
        // Named by the user: the probe may take the whole request time, not discovery's budget.
        guard var finding = await PortControlProbe(client: portControl).probe(address, deadline: deadline),
              finding.speaksPCP || finding.speaksNATPMP else {
            throw PortKeeperError(.gatewayUnreachable, "nothing answered PCP or NAT-PMP at \(address) (UDP \(PCP.serverPort))",
                                  hint: "check the address and that the router has PCP/NAT-PMP enabled")
        }
        if finding.hardwareAddress == nil { finding.hardwareAddress = SystemTables.hardwareAddress(of: address) }
        return try registry.recordPortControl(Self.observed(finding), recordedBy: author)
    }

    /// What `status` shows of a gateway reached over PCP or NAT-PMP: its external address
    /// (NAT-PMP's address request, else the last PCP grant's) and its server's epoch, the seconds
    /// since it last lost its state (about its uptime).
    public func portControlStatus(_ record: GatewayRecord) async throws -> (external: ExternalAddress?, epochSeconds: UInt32?) {
        let gateway = try mappingGateway(for: record)
        guard let gateway = gateway as? PortControlGateway else { return (nil, nil) }
        let external: ExternalAddress?
        if gateway.via == .natPMP {
            // One address request tells both: NAT-PMP's answer carries the epoch.
            external = try await explaining("asking \(record.friendlyName) for its external address and epoch") { try await gateway.natPMPAddressAndEpoch() }.address
        } else {
            external = try? await gateway.externalAddress()
            _ = try await explaining("asking \(record.friendlyName) for its epoch") { try await gateway.checkEpoch() }
        }
        if let external { try registry.recordAddress(gatewayID: record.id, external, recordedBy: author) }
        return (external, try registry.gateway(id: record.id)?.serverEpoch?.seconds)
    }

    /// Makes `chosen` the protocol of the gateway's mappings (`add --protocol`), remembered.
    /// - Throws: ``PortKeeperError`` `unsupported` when the gateway was not seen answering it.
    public func chooseProtocol(_ chosen: GatewayProtocol, for record: GatewayRecord) throws -> GatewayRecord {
        guard record.protocols.contains(chosen) else {
            let seen = GatewayProtocol.allCases.filter(record.protocols.contains).map(\.description)
            throw PortKeeperError(.unsupported, "\(record.friendlyName) was not seen answering \(chosen) (it answered \(seen.isEmpty ? "nothing" : seen.joined(separator: ", ")))",
                                  hint: "run `portkeeper discover` to look again, or choose one it answers")
        }
        try registry.declareProtocol(chosen, gatewayID: record.id)
        logger.info("\(record.friendlyName): mappings are made over \(chosen) from now on")
        return try registry.gateway(id: record.id) ?? record
    }

    /// Records every gateway discovery found, whatever it answered over: a UPnP one by its UDN
    /// (with its PCP/NAT-PMP server, when that answered at its address), a PCP/NAT-PMP-only one
    /// by its identity (`ObservedPortControl.identity`).
    /// - Returns: the records, in discovery's order.
    @discardableResult
    public func record(_ discovery: Inspector.Discovery) throws -> [GatewayRecord] {
        try discovery.found.map { found in
            var record = try found.upnp.map { try self.record($0).record }
            if let finding = found.portControl, finding.speaksPCP || finding.speaksNATPMP {
                record = try registry.recordPortControl(Self.observed(finding), recordedBy: author).record
            }
            guard let record else { throw PortKeeperError(.unexpected, "discovery found a gateway over no protocol") }
            return record
        }
    }

    /// What the registry records of a NAT-PMP/PCP probe's answer.
    static func observed(_ finding: PortControlFinding) -> ObservedPortControl {
        let external = finding.natPMP.flatMap { $0.result == .success ? $0.externalAddress : nil }
        return ObservedPortControl(server: finding.server, speaksPCP: finding.speaksPCP, speaksNATPMP: finding.speaksNATPMP,
                                   hardwareAddress: finding.hardwareAddress, externalAddress: external.map { ExternalAddress(reported: $0.description) })
    }

    /// The gateway `reference` names, as the registry records it: a known one by name (UDN,
    /// prefix, friendly name: the registry alone, never a network search), or the one at a
    /// description URL (read there and recorded). Only when no gateway is known at all and none
    /// is named does discovery run, to find and record them.
    public func gateway(_ reference: GatewayReference) async throws -> GatewayRecord {
        switch reference {
        case .descriptionURL:
            return try await live(reference, probe: .always).record
        case .portControlServer(let address):
            return try await probePortControl(at: address).record
        case .any where try registry.gateways().isEmpty:
            // Discovery over all three protocols: a PCP/NAT-PMP-only gateway is found too.
            let inspector = Inspector(client: client, discovery: discovery)
            let found = try await inspector.discover(at: nil)
            let records = try record(found)
            if records.count > 1 && found.portControl.isEmpty { throw Inspector.several(found.gateways) }
            if records.count > 1 {
                let names = records.map { "\($0.udn) '\($0.friendlyName)' at \($0.location), external \($0.externalAddress ?? "unknown")" + ($0.addressClass.map { " (\($0))" } ?? "") }
                throw PortKeeperError(.ambiguous, "\(records.count) gateways answered: " + names.joined(separator: "; "), context: .severalGateways)
            }
            return try registry.gateway(reference)
        case .any, .name:
            return try registry.gateway(reference)
        }
    }

    /// ``gateway(_:)`` for a reference as the user wrote it (`--gateway`, a file's `gateway:`).
    public func gateway(_ text: String?) async throws -> GatewayRecord {
        try await gateway(try GatewayReference(parsing: text))
    }

    /// The gateway `reference` names as it is now, read from the network and recorded: from its
    /// URL, from the description URL the registry knows (found again by UDN if it moved), or,
    /// when none is named and none is known yet, by discovery.
    public func liveGateway(_ reference: GatewayReference, probe: GatewayClient.ProbePolicy = .always) async throws -> Gateway {
        try await live(reference, probe: probe).gateway
    }

    /// ``liveGateway(_:probe:)`` for a reference as the user wrote it.
    public func liveGateway(_ text: String?, probe: GatewayClient.ProbePolicy = .always) async throws -> Gateway {
        try await liveGateway(try GatewayReference(parsing: text), probe: probe)
    }

    /// The gateway as it is now, and as recorded.
    func live(_ reference: GatewayReference, probe: GatewayClient.ProbePolicy) async throws -> (gateway: Gateway, record: GatewayRecord) {
        let inspector = Inspector(client: client, discovery: discovery)
        let found: Gateway
        switch reference {
        case .portControlServer(let address):
            throw PortKeeperError(.unsupported, "the gateway at \(address) is named by its PCP/NAT-PMP server, which has no UPnP description to read",
                                  hint: "name it by its description URL, or use `portkeeper mappings`")
        case .descriptionURL(let url):
            found = try await inspector.gateway(at: url, probe: probe)
        case .any where try registry.gateways().isEmpty:
            found = try await inspector.gateway(at: nil, probe: probe)
        case .any, .name:
            let known = try registry.gateway(reference)
            guard let descriptionURL = known.descriptionURL else {
                throw PortKeeperError(.unsupported, "\(known.friendlyName) speaks \(known.mappingProtocol.0) only: it has no UPnP description to read",
                                      hint: "`portkeeper mappings` shows what portkeeper made there")
            }
            do {
                found = try await explaining("reading the description of \(known.friendlyName)") { try await client.describe(descriptionURL, probe: probe) }
            } catch let error as TransportError where error.suggestsGatewayMoved {
                switch try await findAgain(known, unansweredAt: descriptionURL, error, probe: probe, recordedBy: author) {
                case .upnp(let gateway):
                    found = gateway
                case .portControlOnly(let switched, _):
                    throw PortKeeperError(.unsupported, "\(known.friendlyName) answers UPnP IGD no more; it answers \(switched.mappingProtocol.0) at \(switched.location), over which its mappings are made from now on",
                                          context: .upnpGone)
                }
            }
        }
        return (found, try record(found).record)
    }

    /// The gateway as it is now, for `status`: its external address must be known.
    /// - Throws: when GetExternalIPAddress fails, in one line naming the gateway.
    public func status(_ reference: GatewayReference) async throws -> Gateway {
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
            .init(serviceType: s.type, serviceId: s.serviceId, controlURL: s.controlURL)
        }
        return ObservedGateway(
            udn: gateway.udn, friendlyName: gateway.friendlyName, manufacturer: gateway.manufacturer,
            modelName: gateway.modelName, modelNumber: gateway.modelNumber, descriptionURL: gateway.descriptionURL,
            services: gateway.services.map(service), chosen: service(gateway.service), serviceChoice: gateway.choiceReason,
            bootID: gateway.bootID, externalAddress: gateway.externalAddress
        )
    }

    /// Runs `body` against the gateway at its stored control URL; when that refuses or times
    /// out (a rebooted router on a new port or address), finds the gateway again by UDN,
    /// records where it is now, and runs `body` there. The move is returned for the caller's
    /// own revision (a reconcile's), not written to history apart.
    func withGateway<T: Sendable>(_ record: GatewayRecord, rediscover: Bool = true,
                                  _ body: (GatewayRecord, any MappingGateway) async throws -> T) async throws -> (T, GatewayRecord, [Change]) {
        do {
            return (try await body(record, try mappingGateway(for: record)), record, [])
        } catch let error as TransportError where error.suggestsGatewayMoved && rediscover && record.mappingProtocol.0 == .upnp {
            // Only a UPnP gateway can be found again by its UDN; a PCP server is at its LAN address.
            let (moved, changes): (GatewayRecord, [Change])
            switch try await findAgain(record, unansweredAt: record.controlURL ?? record.descriptionURL, error, recordedBy: nil) {
            case .upnp(let gateway): (moved, changes) = try registry.recordGateway(Self.observed(gateway))
            case .portControlOnly(let switched, let change): (moved, changes) = (switched, change)
            }
            return (try await body(moved, try mappingGateway(for: moved)), moved, changes)
        }
    }

    /// Where ``findAgain(_:unansweredAt:_:probe:recordedBy:)`` found a gateway that stopped answering.
    enum FoundAgain {
        /// Over UPnP IGD, by its UDN (perhaps at another address or port).
        case upnp(Gateway)
        /// UPnP IGD answers no more, but PCP or NAT-PMP does at its LAN address: the registry
        /// now makes its mappings over that (the record, and the move for history).
        case portControlOnly(GatewayRecord, [Change])
    }

    /// The one way a recorded gateway is found again after it stopped answering at `url` (a
    /// reboot onto another port or address): discovery, and the gateway whose UDN is the record's.
    ///
    /// Discovery probes PCP/NAT-PMP too (where it may: the default gateway, or
    /// `$PORTKEEPER_PCP_SERVER`). When the UDN does not answer but that server does at the
    /// gateway's own LAN address, the user most likely switched UPnP off and left PCP on (what
    /// security guides advise): unless UPnP IGD was chosen with `--protocol upnp`, the gateway
    /// is kept over PCP or NAT-PMP from then on (``FoundAgain/portControlOnly(_:_:)``); with
    /// `author`, that switch is written to history as its revision.
    /// - Throws: ``PortKeeperError`` `gatewayUnreachable` when it is not among those that answered.
    func findAgain(_ record: GatewayRecord, unansweredAt url: GatewayURL?, _ error: TransportError,
                   probe: GatewayClient.ProbePolicy = .always, recordedBy author: RevisionAuthor?) async throws -> FoundAgain {
        let url = url?.description ?? record.location
        logger.info("gateway \(record.udn) did not answer at \(url) (\(error)); rediscovering")
        let found: Inspector.Discovery
        do {
            found = try await Inspector(client: client, discovery: discovery).discover(at: nil, probe: probe)
        } catch let nothing as PortKeeperError where nothing.kind == .notFound {
            found = Inspector.Discovery(gateways: [], portControl: [], portControlServer: nil, failures: [])
        }
        if let gateway = found.gateways.first(where: { $0.udn == record.udn }) { return .upnp(gateway) }
        let server = found.portControl.first { $0.server == record.lanAddress && ($0.speaksPCP || $0.speaksNATPMP) }
        guard let server, record.declaredProtocol == nil else {
            let pcp = server.map { _ in "; PCP/NAT-PMP answers at \(record.lanAddress.map(\.description) ?? "its address"), but UPnP IGD was chosen for it" } ?? ""
            throw PortKeeperError(.gatewayUnreachable, "\(record.friendlyName) did not answer at \(url) (\(error.detail)) and was not found again by discovery" + pcp,
                                  hint: server == nil ? "check that the router is on and UPnP enabled, then try again"
                                                      : "switch UPnP on at the router again, or choose PCP for this gateway")
        }
        let (switched, changes) = try registry.recordUPnPGone(gatewayID: record.id, server: Self.observed(server), recordedBy: author)
        logger.warning("\(record.friendlyName) answers UPnP IGD no more (\(url): \(error.detail)) but answers \(switched.mappingProtocol.0) at \(server.server): its mappings are made over \(switched.mappingProtocol.0) from now on")
        return .portControlOnly(switched, changes)
    }

    /// The recorded gateway's mappings, reached with ``mappingGateways``, or over the protocol
    /// its record says (``GatewayRecord/mappingProtocol``): UPnP IGD, PCP or NAT-PMP.
    func mappingGateway(for record: GatewayRecord) throws -> any MappingGateway {
        if let mappingGateways { return try mappingGateways(record) }
        let (chosen, _) = record.mappingProtocol
        guard chosen == .upnp else {
            var gateway = try PortControlGateway(record: record, via: chosen, client: portControl, registry: registry,
                                                 requestTime: client.limits.deadline, deadline: client.deadline)
            gateway.now = wallClock
            return gateway
        }
        guard let service = record.service else {
            throw PortKeeperError(.unsupported, "\(record.friendlyName) was not seen answering UPnP IGD",
                                  hint: "choose PCP or NAT-PMP with --protocol, or run `portkeeper discover` to look again")
        }
        return UPnPGateway(client: client, service: service)
    }

    /// This host's address as the recorded gateway sees it.
    func hostAddress(_ gateway: GatewayRecord) throws -> IPv4Address {
        try mappingGateway(for: gateway).localAddress()
    }

    /// The gateway's table and external address, read where it is now (found again by UDN if it
    /// moved), remembering what its listing showed about it.
    func read(_ record: GatewayRecord, rediscover: Bool) async throws -> Reconciliation.Reading {
        let ((table, address, gateway), found, moves) = try await explaining("reading the mappings of \(record.friendlyName)") {
            try await withGateway(record, rediscover: rediscover) { record, gateway in
                let table = try await gateway.mappings()
                if let table { try learnListing(table, of: record) }
                return (table, try? await gateway.externalAddress(), gateway)
            }
        }
        return Reconciliation.Reading(record: found, gateway: gateway, table: table, externalAddress: address, moves: moves)
    }

    /// Remembers how the gateway answered a listing (whether GetListOfPortMappings works, how
    /// its list ends), writing only when that is news.
    func learnListing(_ table: PortMappingTable, of gateway: GatewayRecord) throws {
        let works: Bool? = switch table.method {
        case .listOfPortMappings: true
        case .genericEntryWalk: gateway.serviceType?.isVersion2 == true ? false : nil
        case .portControl: nil
        }
        let end = table.method == .genericEntryWalk ? table.note : nil
        if (works != nil && works != gateway.listOfPortMappingsWorks) || (end != nil && end != gateway.listEnd) {
            try registry.learn(gatewayID: gateway.id, listEnd: end, listOfPortMappingsWorks: works)
        }
    }

    /// What this keeper's command is doing, in a word, for the lock file: "reconcile", "add",
    /// "watch" (the command line's first word that is not an option, after the program's name).
    var activity: String? {
        command.split(separator: " ").dropFirst().first { !$0.hasPrefix("-") }.map(String.init)
    }
}
