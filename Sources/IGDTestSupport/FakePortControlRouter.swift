import IGDProtocol
import PCPProtocol

/// A PCP/NAT-PMP gateway with a mapping table, for ``FakePCPServer``: what a reconcile over
/// PCP needs to be tested in process, and what miniupnpd cannot be made to do (grant less
/// lifetime, assign another port, refuse, restart at will with any epoch).
///
/// PCP mappings are keyed by protocol and internal port, and owned by their nonce: a request
/// with another nonce is refused NOT_AUTHORIZED, as RFC 6887 §11.3 and miniupnpd do. A NAT-PMP
/// request replaces whatever holds its internal port.
public final class FakePortControlRouter: Sendable {
    /// One mapping it holds.
    public struct Mapping: Sendable, Equatable {
        /// The nonce it was made with (nil: made over NAT-PMP).
        public var nonce: PCP.Nonce?
        /// TCP or UDP.
        public var `protocol`: TransportProtocol
        /// The internal port.
        public var internalPort: UInt16
        /// The external port assigned.
        public var externalPort: UInt16
        /// The lifetime granted at the last request.
        public var lifetime: UInt32
    }

    /// Its knobs and its table.
    public struct State: Sendable {
        /// Epoch seconds in every answer; ``advance(seconds:)`` moves it, ``reboot(epoch:)`` resets it.
        public var epoch: UInt32 = 5000
        /// Its table.
        public var mappings: [Mapping] = []
        /// False: a NAT-PMP-only server (version-0 UNSUPP_VERSION to every PCP request).
        public var speaksPCP = true
        /// The longest lifetime granted.
        public var maximumLifetime: UInt32 = 86400
        /// An external port to assign instead of the one suggested (for new mappings).
        public var assignedPort: UInt16?
        /// A result code every MAP gets instead of success.
        public var refusal: PCP.ResultCode?
        /// Answer nothing at all.
        public var silent = false
        /// False: do what MAP requests ask but lose the answers (a crash or a lost datagram
        /// between the request and its answer, seen from the client).
        public var answersMaps = true
        /// MAP requests received (PCP and NAT-PMP), and epoch probes (ANNOUNCE, address requests).
        public var mapRequests = 0
        public var probes = 0
        /// The external address it reports.
        public var externalAddress = IPv4Address(203, 0, 113, 9)
    }

    let state = LockedBox(State())

    /// A router with an empty table at epoch 5000.
    public init() {}

    /// Its state now.
    public var snapshot: State { state.snapshot }

    /// Changes its knobs or its table.
    public func change(_ body: @Sendable (inout State) -> Void) { state.withLock(body) }

    /// Time passes on the router.
    public func advance(seconds: UInt32) { state.withLock { $0.epoch += seconds } }

    /// A restart: the table is lost and the epoch starts again.
    public func reboot(epoch: UInt32 = 3) {
        state.withLock {
            $0.mappings = []
            $0.epoch = epoch
        }
    }

    /// The script for ``FakePCPServer/start(group:script:)``.
    public var script: @Sendable (FakePCPRequest) -> [FakePCPReply] {
        { [state] request in
            state.withLock { state in Self.answer(request, &state).map { [FakePCPReply($0)] } ?? [] }
        }
    }

    static func answer(_ request: FakePCPRequest, _ state: inout State) -> [UInt8]? {
        guard !state.silent else { return nil }
        switch request.version {
        case NATPMP.version:
            if request.bytes.count == 2, request.opcode == 0 {
                state.probes += 1
                return NATPMP.ExternalAddressResponse(result: .success, secondsSinceStartOfEpoch: state.epoch, externalAddress: state.externalAddress).encoded()
            }
            guard let map = request.natPMPMap else { return nil }
            state.mapRequests += 1
            state.mappings.removeAll { $0.protocol == map.protocol && $0.internalPort == map.internalPort && map.lifetime == 0 }
            guard map.lifetime > 0 else {
                return NATPMP.MapResponse(protocol: map.protocol, result: .success, secondsSinceStartOfEpoch: state.epoch,
                                          mapping: .init(internalPort: map.internalPort, externalPort: 0, lifetime: 0)).encoded()
            }
            let external = grant(map.protocol, map.internalPort, suggested: map.suggestedExternalPort, lifetime: map.lifetime, nonce: nil, &state)
            return NATPMP.MapResponse(protocol: map.protocol, result: .success, secondsSinceStartOfEpoch: state.epoch,
                                      mapping: .init(internalPort: map.internalPort, externalPort: external.port, lifetime: external.lifetime)).encoded()
        case PCP.version:
            guard state.speaksPCP else { return PCP.Answer.natPMPUnsupportedVersion(secondsSinceStartOfEpoch: state.epoch).encoded() }
            if request.opcode == PCP.Opcode.announce.rawValue {
                state.probes += 1
                return PCP.Response(opcode: .announce, result: .success, lifetime: 0, epochTime: state.epoch).encoded()
            }
            guard let map = request.pcpMap else { return nil }
            state.mapRequests += 1
            func reply(_ result: PCP.ResultCode, lifetime: UInt32, port: UInt16) -> [UInt8] {
                let fields = PCP.MapFields(nonce: map.nonce, protocol: map.protocol, internalPort: map.internalPort,
                                           assignedExternalPort: port, assignedExternalAddress: state.externalAddress)
                return PCP.Response(opcode: .map, result: result, lifetime: lifetime, epochTime: state.epoch, map: fields).encoded()
            }
            if let refusal = state.refusal { return reply(refusal, lifetime: 30, port: 0) }
            guard state.answersMaps else {
                if state.mappings.allSatisfy({ $0.protocol != map.protocol || $0.internalPort != map.internalPort }) {
                    _ = grant(map.protocol, map.internalPort, suggested: map.suggestedExternalPort, lifetime: map.lifetime, nonce: map.nonce, &state)
                }
                return nil
            }
            if let held = state.mappings.first(where: { $0.protocol == map.protocol && $0.internalPort == map.internalPort }), held.nonce != map.nonce {
                return reply(.notAuthorized, lifetime: 30, port: map.suggestedExternalPort)
            }
            if map.lifetime == 0 {
                state.mappings.removeAll { $0.protocol == map.protocol && $0.internalPort == map.internalPort }
                return reply(.success, lifetime: 0, port: map.suggestedExternalPort)
            }
            let external = grant(map.protocol, map.internalPort, suggested: map.suggestedExternalPort, lifetime: map.lifetime, nonce: map.nonce, &state)
            return reply(.success, lifetime: external.lifetime, port: external.port)
        default:
            return nil
        }
    }

    /// Creates or renews the mapping of an internal port; an existing one keeps its external port.
    static func grant(_ proto: TransportProtocol, _ internalPort: UInt16, suggested: UInt16, lifetime: UInt32, nonce: PCP.Nonce?,
                      _ state: inout State) -> (port: UInt16, lifetime: UInt32) {
        let granted = min(lifetime, state.maximumLifetime)
        if let index = state.mappings.firstIndex(where: { $0.protocol == proto && $0.internalPort == internalPort }) {
            state.mappings[index].lifetime = granted
            state.mappings[index].nonce = nonce ?? state.mappings[index].nonce
            return (state.mappings[index].externalPort, granted)
        }
        let port = state.assignedPort ?? (suggested == 0 ? internalPort : suggested)
        state.mappings.append(Mapping(nonce: nonce, protocol: proto, internalPort: internalPort, externalPort: port, lifetime: granted))
        return (port, granted)
    }
}
