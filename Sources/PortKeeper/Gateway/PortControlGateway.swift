import Foundation
import IGDClient
import IGDProtocol
import MappingRegistry
import PCPProtocol
import PortKeeperModel

/// A gateway reached over PCP (RFC 6887) or NAT-PMP (RFC 6886) as a ``MappingGateway``.
///
/// Neither protocol can list the gateway's table. What portkeeper made is known from the
/// registry (`PortControlMapping`: the nonce, what was granted, until when), and checked
/// against the server's epoch at every read: a server whose epoch did not advance with our
/// clock restarted and lost its mappings, so the table reads as empty and reconcile makes them
/// again. Every request for a mapping carries the nonce written to the registry before it was
/// first sent, so a renewal, the delete and a retry after a crash all name the same mapping.
///
/// A PCP request answered by a NAT-PMP-only server (version 0, UNSUPP_VERSION) is sent again
/// over NAT-PMP, and the registry remembers that the gateway speaks NAT-PMP.
public struct PortControlGateway: MappingGateway {
    /// Sends the datagrams.
    public var client: PortControlClient
    /// Where the nonces, grants and epoch are kept.
    public let registry: Registry
    /// The gateway as recorded.
    public let record: GatewayRecord
    /// Its PCP/NAT-PMP server address.
    public let server: IPv4Address
    /// PCP or NAT-PMP.
    public private(set) var via: GatewayProtocol
    /// The longest one request may take, retransmissions included.
    public var requestTime: Duration
    /// The command's overall deadline, if it has one.
    public var deadline: Deadline?
    /// The lifetime asked for a mapping declared permanent (lease 0): neither protocol has
    /// permanent mappings; `watch` renews it.
    public var permanentLifetime: UInt32 = 86400
    /// The wall clock (the registry's times; tests inject one).
    public var now: @Sendable () -> Date = { Date() }

    /// The gateway `record` over `via` (PCP or NAT-PMP), each request bounded by `requestTime`
    /// and all of them by `deadline`.
    /// - Throws: ``PortKeeperError`` `unsupported` when the record has no PCP/NAT-PMP server.
    public init(record: GatewayRecord, via: GatewayProtocol, client: PortControlClient, registry: Registry,
                requestTime: Duration, deadline: Deadline?) throws {
        guard via != .upnp, let server = record.portControlServer else {
            throw PortKeeperError(.unsupported, "\(record.friendlyName) was not seen answering PCP or NAT-PMP",
                                  hint: "run `portkeeper discover` to look again, or choose another protocol with --protocol")
        }
        self.record = record
        self.via = via
        self.client = client
        self.registry = registry
        self.server = server
        self.requestTime = requestTime
        self.deadline = deadline
    }

    /// This host's address on the interface facing the gateway.
    public func localAddress() throws -> IPv4Address {
        do {
            return try LocalAddress.facing(server)
        } catch {
            throw PortKeeperError(.localNetwork, "cannot tell this host's address towards \(server): \(error)")
        }
    }

    /// The external address: NAT-PMP's public-address request where NAT-PMP answers, else the
    /// address the last PCP grant named.
    public func externalAddress() async throws -> ExternalAddress {
        if via == .natPMP || record.speaksNATPMP {
            let reply = try await client.natPMPExternalAddress(gateway: server, deadline: requestDeadline())
            guard reply.answer.result == .success, let address = reply.answer.externalAddress else {
                throw PortControlRefusal(protocol: .natPMP, code: Int(reply.answer.result.code), name: reply.answer.result.name, doing: "the external-address request")
            }
            return ExternalAddress(reported: address.description)
        }
        guard let address = try registry.portControlMappings(gatewayID: record.id).compactMap(\.assignedExternalAddress).first else {
            throw PortKeeperError(.unsupported, "\(record.friendlyName) speaks PCP only, which tells the external address in a mapping's answer; none was granted yet")
        }
        return ExternalAddress(reported: address.description)
    }

    /// What portkeeper made there and the gateway still holds: the registry's grants that have
    /// not expired, none at all when the server's epoch says it restarted since the last answer
    /// (one ANNOUNCE, or a NAT-PMP address request). Never nil: the table is the registry's.
    public func mappings() async throws -> PortMappingTable? {
        // A restart marks every grant lost (noteEpoch): only the still alive ones are read back.
        let restarted = try await checkEpoch()
        let at = now()
        let known = try registry.portControlMappings(gatewayID: record.id)
        let alive = known.filter { mapping in mapping.expires.map { $0 > at } ?? false }
        let note = restarted ? "the server restarted (its epoch went back): its mappings are lost" : nil
        // Neither protocol carries a description: what portkeeper made has the declared one.
        let descriptions = Dictionary(try registry.declarations(gatewayID: record.id).map { ($0.key, $0.description) }, uniquingKeysWith: { a, _ in a })
        let entries = alive.map { mapping in
            var entry = Self.entry(mapping, at: at)
            entry.description = descriptions[mapping.key] ?? ""
            return entry
        }
        return PortMappingTable(entries: entries, method: .portControl, note: note)
    }

    /// Asks for `entry` (created, renewed, or changed): ``grant(_:)``, its answer kept in the registry.
    public func add(_ entry: PortMappingEntry) async throws {
        _ = try await grant(entry)
    }

    /// Asks for `entry` (created, renewed, or changed), with the nonce the registry keeps for
    /// its key (written there before the first request), and records what was granted.
    /// - Returns: what the gateway granted.
    /// - Throws: ``PortControlRefusal`` for a result code other than success.
    public func grant(_ entry: PortMappingEntry) async throws -> PortControlGrant {
        let key = MappingKey(entry)
        guard entry.enabled else {
            throw PortKeeperError(.unsupported, "\(key): \(via) has no disabled mappings", hint: "remove the mapping instead, or enable it")
        }
        guard let client = IPv4Address(entry.internalClient) else {
            throw PortKeeperError(.invalidInput, "\(key): the internal client '\(entry.internalClient)' is not an IPv4 address")
        }
        var generator = SystemRandomNumberGenerator()
        let mapping = try registry.preparePortControlMapping(gatewayID: record.id, key: key, via: via, newNonce: PCP.Nonce.random(using: &generator).description,
                                                             internalClient: client, internalPort: entry.internalPort)
        let lifetime = entry.leaseDuration == 0 ? permanentLifetime : entry.leaseDuration
        let grant = try await request(mapping, lifetime: lifetime)
        try registry.recordGrant(gatewayID: record.id, key: key, via: grant.via, externalPort: grant.externalPort,
                                 externalAddress: grant.externalAddress, lifetime: grant.lifetime, at: now())
        return grant
    }

    /// Deletes the mapping (lifetime 0, with its nonce) and forgets it. A mapping the registry
    /// has no nonce for was not made by portkeeper over this protocol: refused as 714 would be.
    public func delete(_ entry: PortMappingEntry) async throws {
        let key = MappingKey(entry)
        guard let mapping = try registry.portControlMapping(gatewayID: record.id, key: key) else {
            throw UPnPError(code: UPnPError.noSuchEntryInArray, deviceDescription: "no \(via) mapping of \(key) is known to portkeeper")
        }
        _ = try await request(mapping, lifetime: 0)
        try registry.forgetPortControlMapping(gatewayID: record.id, key: key)
    }

    /// The same gateway with the command's deadline later by `extra`.
    public func extendingDeadline(by extra: Duration) -> PortControlGateway {
        var extended = self
        extended.deadline = deadline?.extended(by: extra)
        return extended
    }

    // MARK: Requests

    /// One MAP (PCP, falling back to NAT-PMP) for `mapping` with `lifetime` (0 deletes).
    func request(_ mapping: PortControlMapping, lifetime: UInt32) async throws -> PortControlGrant {
        guard let nonce = PCP.Nonce(hex: mapping.nonce) else {
            throw PortKeeperError(.registry, "the registry's nonce for \(mapping.key) is not 24 hexadecimal digits")
        }
        let suggested = mapping.assignedExternalPort.flatMap { $0 == 0 ? nil : $0 } ?? mapping.key.externalPort
        if via == .pcp {
            let reply = try await client.pcpMap(nonce: nonce, protocol: mapping.key.protocol, internalPort: mapping.internalPort,
                                                suggestedExternalPort: suggested, lifetime: lifetime, gateway: server, deadline: requestDeadline())
            switch reply.answer {
            case .pcp(let response):
                try noteEpoch(response.epochTime, pcp: true)
                guard response.result == .success else {
                    throw PortControlRefusal(protocol: .pcp, code: Int(response.result.code), name: response.result.name,
                                             doing: lifetime == 0 ? "the delete of \(mapping.key)" : "the MAP of \(mapping.key)")
                }
                return PortControlGrant(externalPort: response.map?.assignedExternalPort ?? suggested,
                                        externalAddress: response.map?.assignedExternalAddress, lifetime: response.lifetime, via: .pcp)
            case .natPMPUnsupportedVersion:
                // A NAT-PMP-only server: the same mapping over NAT-PMP, from now on.
                try registry.recordPortControl(ObservedPortControl(server: server, speaksPCP: false, speaksNATPMP: true))
                var fallback = self
                fallback.via = .natPMP
                var moved = mapping
                moved.via = .natPMP
                return try await fallback.request(moved, lifetime: lifetime)
            }
        }
        let map = NATPMP.MapRequest(protocol: mapping.key.protocol, internalPort: mapping.internalPort,
                                    suggestedExternalPort: lifetime == 0 ? 0 : suggested, lifetime: lifetime)
        let reply = try await client.natPMPMap(map, gateway: server, deadline: requestDeadline())
        try noteEpoch(reply.answer.secondsSinceStartOfEpoch, pcp: false)
        guard reply.answer.result == .success, let granted = reply.answer.mapping else {
            throw PortControlRefusal(protocol: .natPMP, code: Int(reply.answer.result.code), name: reply.answer.result.name,
                                     doing: lifetime == 0 ? "the delete of \(mapping.key)" : "the mapping of \(mapping.key)")
        }
        return PortControlGrant(externalPort: granted.externalPort, externalAddress: nil, lifetime: granted.lifetime, via: .natPMP)
    }

    /// Asks the server's epoch (ANNOUNCE, or NAT-PMP's address request) and compares it with
    /// the one the registry kept. - Returns: whether the server lost its state since.
    func checkEpoch() async throws -> Bool {
        if via == .pcp {
            let reply = try await client.pcpAnnounce(gateway: server, deadline: requestDeadline())
            switch reply.answer {
            case .pcp(let response): return try noteEpoch(response.epochTime, pcp: true)
            case .natPMPUnsupportedVersion(let seconds): return try noteEpoch(seconds, pcp: false)
            }
        }
        return try await natPMPAddressAndEpoch().restarted
    }

    /// NAT-PMP's external-address request, whose answer carries the server's epoch as well: the
    /// address (nil when the server refused to tell it) and whether the epoch says the server
    /// lost its state since the last one kept, from one datagram.
    func natPMPAddressAndEpoch() async throws -> (address: ExternalAddress?, restarted: Bool) {
        let reply = try await client.natPMPExternalAddress(gateway: server, deadline: requestDeadline())
        let restarted = try noteEpoch(reply.answer.secondsSinceStartOfEpoch, pcp: false)
        let address = reply.answer.result == .success ? reply.answer.externalAddress.map { ExternalAddress(reported: $0.description) } : nil
        return (address, restarted)
    }

    /// Keeps the epoch just seen; when it says the server lost its state, first marks every
    /// grant of the gateway lost, whoever saw it (`status`, a MAP's answer, a reconcile's read):
    /// the next reconcile then restores them and history tells the loss, though the epoch kept
    /// from then on is the new one. (Marked before the epoch is kept: interrupted between the two,
    /// the next look sees the restart again.)
    /// - Returns: whether it says the server lost its state since the last one the registry kept
    ///   (RFC 6887 §8.5 for PCP, RFC 6886 §3.6 for NAT-PMP).
    @discardableResult
    func noteEpoch(_ seconds: UInt32, pcp: Bool) throws -> Bool {
        let at = now()
        let current = EpochSample(serverSeconds: seconds, localTime: Self.wallDuration(at))
        let stored = try registry.gateway(id: record.id)?.serverEpoch
        let lost = stored.map { previous in
            let sample = EpochSample(serverSeconds: previous.seconds, localTime: Self.wallDuration(previous.seen))
            return pcp ? EpochCheck.pcpServerLostState(previous: sample, current: current)
                       : EpochCheck.natPMPServerLostState(previous: sample, current: current)
        } ?? false
        if lost { try registry.markPortControlLost(gatewayID: record.id) }
        try registry.recordEpoch(gatewayID: record.id, seconds: seconds, at: at)
        return lost
    }

    /// The registry keeps wall-clock times (they outlive the process); the checks want elapsed time.
    static func wallDuration(_ date: Date) -> Duration {
        .milliseconds(Int64((date.timeIntervalSince1970 * 1000).rounded()))
    }

    /// The earlier of one request's time and the command's deadline.
    func requestDeadline() -> Deadline {
        let own = Deadline("the \(via) request", in: requestTime)
        guard let deadline, deadline.instant < own.instant else { return own }
        return deadline
    }

    /// How long until `mapping` should be renewed: at a point between 1/2 and 5/8 of its
    /// granted lifetime (RFC 6887 §11.2.1; RFC 6886 asks for 1/2), the same point for a given
    /// nonce so that a schedule can be tested; zero when due; nil before any grant.
    public static func renewalDue(_ mapping: PortControlMapping, at now: Date) -> Duration? {
        guard let granted = mapping.granted, let lifetime = mapping.lifetime, lifetime > 0 else { return nil }
        // The nonce is 96 random bits: its last digits spread the renewals of many mappings.
        let spread = Double(UInt64(mapping.nonce.suffix(4), radix: 16) ?? 0) / 65535
        let fraction = mapping.via == .natPMP ? 0.5 : 0.5 + spread / 8
        let due = granted.addingTimeInterval(Double(lifetime) * fraction)
        let left = due.timeIntervalSince(now)
        return left <= 0 ? .zero : .milliseconds(Int64((left * 1000).rounded(.up)))
    }

    /// The entry a kept mapping stands for in the table: its declared key. Its lease reads 0:
    /// renewals follow the grant (``renewalDue(_:at:)``), not the planner's lease rule.
    static func entry(_ mapping: PortControlMapping, at now: Date) -> PortMappingEntry {
        PortMappingEntry(remoteHost: mapping.key.remoteHost, externalPort: mapping.key.externalPort, protocol: mapping.key.protocol,
                         internalPort: mapping.internalPort, internalClient: mapping.internalClient.description, enabled: true,
                         description: "", leaseDuration: 0)
    }
}

/// What a PCP or NAT-PMP gateway granted for one request.
public struct PortControlGrant: Sendable, Equatable {
    /// The external port it assigned (may differ from the one suggested).
    public var externalPort: UInt16
    /// The external address it assigned (PCP only).
    public var externalAddress: IPv4Address?
    /// The lifetime granted, in seconds (may be less than asked).
    public var lifetime: UInt32
    /// The protocol that granted it.
    public var via: GatewayProtocol
}

/// A PCP or NAT-PMP gateway's refusal: a result code other than success.
public struct PortControlRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    /// Which protocol answered.
    public var `protocol`: GatewayProtocol
    /// The result code.
    public var code: Int
    /// Its RFC name (NOT_AUTHORIZED…), when it has one.
    public var name: String?
    /// What was refused ("the MAP of 8080/tcp").
    public var doing: String

    /// "PCP NOT_AUTHORIZED (2)".
    public var result: String { "\(`protocol`) \(name ?? "result") (\(code))" }

    public var description: String { "\(`protocol`) refused \(doing): \(result)" }
}
