import IGDProtocol

/// What a PCP or NAT-PMP server multicasts to 224.0.0.1:5350 when it starts or loses its
/// mapping state: a PCP ANNOUNCE answer (RFC 6887 §14.1.3) or a NAT-PMP external-address
/// answer (RFC 6886 §3.2.1). Either carries the server's epoch, which tells a restart (epoch
/// near zero, or not advancing as our clock did) from a repeat of the same news: servers send
/// it several times, 250 ms apart and doubling.
public struct ServerAnnouncement: Sendable, Hashable {
    /// Which protocol announced it.
    public enum Via: String, Sendable, Hashable {
        /// A PCP ANNOUNCE answer (version 2).
        case pcp
        /// A NAT-PMP external-address answer (version 0).
        case natPMP

        /// The protocol's name as the RFC writes it.
        public var name: String { self == .pcp ? "PCP" : "NAT-PMP" }
    }

    /// Which protocol announced it.
    public var via: Via
    /// The server's epoch: seconds since its mapping state began.
    public var epochSeconds: UInt32
    /// The external address a NAT-PMP server announced; nil for PCP, whose ANNOUNCE carries none.
    public var externalAddress: IPv4Address?

    /// An announcement with these fields.
    public init(via: Via, epochSeconds: UInt32, externalAddress: IPv4Address? = nil) {
        self.via = via
        self.epochSeconds = epochSeconds
        self.externalAddress = externalAddress
    }

    /// Decodes a datagram that arrived on the announcement port, hostile until checked: at
    /// most 1100 bytes; version 2 must be a successful PCP ANNOUNCE answer (R bit, opcode 0,
    /// result SUCCESS); version 0 a successful 12-byte NAT-PMP external-address answer
    /// (opcode 128, result 0, an address). Anything else, including a MAP answer or an error
    /// answer, is not an announcement.
    /// - Throws: ``PCPViolation`` saying, in one line, why it is not one.
    public init(decoding bytes: [UInt8]) throws(PCPViolation) {
        guard bytes.count <= PCP.maxMessageBytes else {
            throw PCPViolation("datagram of \(bytes.count) bytes on the announcement port, over the \(PCP.maxMessageBytes)-byte limit")
        }
        guard let version = bytes.first else { throw PCPViolation("empty datagram on the announcement port") }
        switch version {
        case PCP.version:
            guard case .pcp(let response) = try PCP.Answer(decoding: bytes, answering: .announce) else {
                throw PCPViolation("version-2 datagram that is not a PCP answer")
            }
            guard response.result == .success else {
                throw PCPViolation("PCP ANNOUNCE answer with \(response.result), not SUCCESS: not an announcement")
            }
            self.init(via: .pcp, epochSeconds: response.epochTime)
        case NATPMP.version:
            let answer = try NATPMP.ExternalAddressResponse(decoding: bytes)
            guard answer.result == .success, let address = answer.externalAddress else {
                throw PCPViolation("NAT-PMP external-address answer with \(answer.result), not success: not an announcement")
            }
            self.init(via: .natPMP, epochSeconds: answer.secondsSinceStartOfEpoch, externalAddress: address)
        default:
            throw PCPViolation("datagram of version \(version) on the announcement port; PCP is 2, NAT-PMP 0")
        }
    }

    /// Whether this announcement, `elapsed` after `previous` arrived, says the server lost its
    /// state since: the RFC's epoch check of this announcement's protocol (RFC 6887 §8.5,
    /// RFC 6886 §3.6). False for a repeat of the same news, whose epoch advanced as our clock did.
    public func restarted(since previous: ServerAnnouncement, elapsed: Duration) -> Bool {
        let before = EpochSample(serverSeconds: previous.epochSeconds, localTime: .zero)
        let now = EpochSample(serverSeconds: epochSeconds, localTime: elapsed)
        switch via {
        case .pcp: return EpochCheck.pcpServerLostState(previous: before, current: now)
        case .natPMP: return EpochCheck.natPMPServerLostState(previous: before, current: now)
        }
    }

    /// The datagram a server multicasts for this announcement (a PCP ANNOUNCE answer with
    /// lifetime 0, or a 12-byte NAT-PMP external-address answer).
    public func encoded() -> [UInt8] {
        switch via {
        case .pcp:
            return PCP.Answer.pcp(PCP.Response(opcode: .announce, result: .success, lifetime: 0, epochTime: epochSeconds)).encoded()
        case .natPMP:
            return NATPMP.ExternalAddressResponse(result: .success, secondsSinceStartOfEpoch: epochSeconds,
                                                  externalAddress: externalAddress ?? IPv4Address(0, 0, 0, 0)).encoded()
        }
    }
}
