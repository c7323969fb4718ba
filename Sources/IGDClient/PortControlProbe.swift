import Logging
import IGDProtocol
import PCPProtocol

/// What a NAT-PMP/PCP server said to discovery's probe: which of the two protocols it speaks,
/// its epoch, and the external address NAT-PMP reports.
public struct PortControlFinding: Sendable, Equatable {
    /// The server's answer to the PCP ANNOUNCE.
    public struct PCPAnswer: Sendable, Equatable {
        /// Its result (SUCCESS from a server that takes PCP requests).
        public var result: PCP.ResultCode
        /// The server's epoch (seconds since its mapping table was (re)initialised).
        public var epoch: UInt32
        /// The PCP version it answered with.
        public var version: UInt8

        /// An answer with these fields.
        public init(result: PCP.ResultCode, epoch: UInt32, version: UInt8 = PCP.version) {
            self.result = result
            self.epoch = epoch
            self.version = version
        }
    }

    /// The server's answer to the NAT-PMP external-address request.
    public struct NATPMPAnswer: Sendable, Equatable {
        /// Its result (Success, or why it has no external address to tell).
        public var result: NATPMP.ResultCode
        /// The external address it reports; nil in an error answer, which carries none.
        public var externalAddress: IPv4Address?
        /// Seconds since the start of its epoch.
        public var epoch: UInt32

        /// An answer with these fields.
        public init(result: NATPMP.ResultCode, externalAddress: IPv4Address?, epoch: UInt32) {
            self.result = result
            self.externalAddress = externalAddress
            self.epoch = epoch
        }
    }

    /// The server's address (the default gateway, unless another was named).
    public var server: IPv4Address
    /// The UDP port it was asked on (5351).
    public var port: UInt16
    /// The server's hardware address from the neighbour table (lower case), when known.
    public var hardwareAddress: String?
    /// The answer to the PCP ANNOUNCE; nil when it answered none, or answered as NAT-PMP only.
    public var pcp: PCPAnswer?
    /// The answer to the NAT-PMP external-address request; nil when none came.
    public var natPMP: NATPMPAnswer?
    /// The server answered the PCP ANNOUNCE with a version-0 UNSUPP_VERSION: it speaks NAT-PMP only.
    public var pcpUnsupportedVersion: Bool
    /// This host's address towards the server (the probe's source address).
    public var clientAddress: IPv4Address?

    /// A finding with these fields.
    public init(server: IPv4Address, port: UInt16 = PCP.serverPort, hardwareAddress: String? = nil, pcp: PCPAnswer? = nil,
                natPMP: NATPMPAnswer? = nil, pcpUnsupportedVersion: Bool = false, clientAddress: IPv4Address? = nil) {
        self.server = server
        self.port = port
        self.hardwareAddress = hardwareAddress
        self.pcp = pcp
        self.natPMP = natPMP
        self.pcpUnsupportedVersion = pcpUnsupportedVersion
        self.clientAddress = clientAddress
    }

    /// The server speaks PCP: it answered the ANNOUNCE in PCP.
    public var speaksPCP: Bool { pcp != nil }
    /// The server speaks NAT-PMP: it answered the external-address request, or refused PCP as a
    /// NAT-PMP server does.
    public var speaksNATPMP: Bool { natPMP != nil || pcpUnsupportedVersion }
}

/// Discovery's NAT-PMP/PCP probe: a PCP ANNOUNCE and a NAT-PMP external-address request sent at
/// the same time to one server, each resent on discovery's own short schedule
/// (``RetransmissionSchedule/discovery``) until it is answered, the deadline passes or the task
/// is cancelled (discovery cancels it once the UPnP side is done and the probe had its minimum
/// time). Answers are taken as ``PortControlClient`` takes them: only from the server's address
/// and port, decoded as hostile input.
public struct PortControlProbe: Sendable {
    /// The client whose exchanges the probe runs (its `serverPort` is the port asked).
    public let client: PortControlClient
    /// When each request is sent again.
    public var schedule: RetransmissionSchedule
    let neighbours: @Sendable (IPv4Address) -> String?
    let logger: Logger

    /// A probe through `client`, resending on `schedule`; the server's hardware address is read
    /// from the neighbour table (`/proc/net/arp`) once something answered.
    public init(client: PortControlClient, schedule: RetransmissionSchedule = .discovery, logger: Logger = Logger(label: "portkeeper.pcp")) {
        self.init(client: client, schedule: schedule, logger: logger) { SystemTables.hardwareAddress(of: $0) }
    }

    /// A probe that asks `neighbours` for the server's hardware address (tests).
    public init(client: PortControlClient, schedule: RetransmissionSchedule = .discovery, logger: Logger = Logger(label: "portkeeper.pcp"),
                neighbours: @escaping @Sendable (IPv4Address) -> String?) {
        self.client = client
        self.schedule = schedule
        self.logger = logger
        self.neighbours = neighbours
    }

    private enum Part: Sendable {
        case pcp(PortControlReply<PCP.Answer>)
        case natPMP(PortControlReply<NATPMP.ExternalAddressResponse>)
        case none
    }

    /// Probes `server` until both requests are answered, `deadline` passes or the task is
    /// cancelled; calls `onAnswer` as soon as the first answer arrives (discovery ends its SSDP
    /// search sooner then). Never throws: a request that fails is a protocol that did not answer.
    /// - Returns: what answered, nil when nothing did.
    public func probe(_ server: IPv4Address, deadline: Deadline, onAnswer: @escaping @Sendable () -> Void = {}) async -> PortControlFinding? {
        let parts = await withTaskGroup(of: Part.self) { group in
            group.addTask {
                do {
                    let reply = try await client.pcpAnnounce(gateway: server, deadline: deadline, schedule: schedule)
                    onAnswer()
                    return .pcp(reply)
                } catch {
                    logger.debug("no PCP answer from \(server):\(client.serverPort) to discovery's ANNOUNCE: \(error)")
                    return .none
                }
            }
            group.addTask {
                do {
                    let reply = try await client.natPMPExternalAddress(gateway: server, deadline: deadline, schedule: schedule)
                    onAnswer()
                    return .natPMP(reply)
                } catch {
                    logger.debug("no NAT-PMP answer from \(server):\(client.serverPort) to discovery's external-address request: \(error)")
                    return .none
                }
            }
            var parts: [Part] = []
            for await part in group { parts.append(part) }
            return parts
        }
        var finding = PortControlFinding(server: server, port: client.serverPort)
        for part in parts {
            switch part {
            case .pcp(let reply):
                finding.clientAddress = reply.clientAddress
                switch reply.answer {
                case .pcp(let response):
                    finding.pcp = .init(result: response.result, epoch: response.epochTime)
                case .natPMPUnsupportedVersion:
                    finding.pcpUnsupportedVersion = true
                }
            case .natPMP(let reply):
                finding.clientAddress = reply.clientAddress
                finding.natPMP = .init(result: reply.answer.result, externalAddress: reply.answer.externalAddress, epoch: reply.answer.secondsSinceStartOfEpoch)
            case .none:
                break
            }
        }
        guard finding.speaksPCP || finding.speaksNATPMP else { return nil }
        finding.hardwareAddress = neighbours(server)
        return finding
    }
}
