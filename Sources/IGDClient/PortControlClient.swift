import Logging
import NIOCore
import NIOPosix
import IGDProtocol
import PCPProtocol

/// An answer a NAT-PMP or PCP gateway sent to one request, decoded and checked, with what the
/// exchange took.
public struct PortControlReply<Answer: Sendable>: Sendable {
    /// The answer.
    public var answer: Answer
    /// The local address the request left from (the PCP client address).
    public var clientAddress: IPv4Address
    /// When the answer arrived, on the monotonic clock (for the epoch checks, `EpochSample`).
    public var receivedAt: ContinuousClock.Instant
    /// How many times the request was sent (1 when the first was answered).
    public var requestsSent: Int
    /// How many datagrams from the gateway were ignored before it: undecodable, or answers to
    /// another request.
    public var ignored: Int
}

extension PortControlReply: Equatable where Answer: Equatable {}

/// A NAT-PMP (RFC 6886) and PCP (RFC 6887) client over UDP: one request to a gateway's port
/// 5351, sent again on a ``RetransmissionSchedule`` until a datagram answers it or the caller's
/// ``Deadline`` runs out.
///
/// Each exchange has its own UDP socket, connected to the gateway (so that the kernel reports
/// the local address for PCP's client address field and drops datagrams from anyone else).
/// A datagram is taken only from the gateway's address and port, at most
/// `PCP.maxMessageBytes` long, decoded by PCPProtocol's hostile-input decoders and checked
/// against the request (`check(answering:)`: opcode, nonce, protocol, internal port); anything
/// else is logged at debug and the client keeps waiting. Result codes are values in the answer,
/// not errors: the caller decides what a refusal means.
public struct PortControlClient: Sendable {
    let group: any EventLoopGroup
    let serverPort: UInt16
    let natPMPSchedule: RetransmissionSchedule
    let pcpSchedule: RetransmissionSchedule
    let logger: Logger

    /// The most datagrams read in one exchange; later ones are dropped unread.
    static let maxDatagrams = 256

    /// A client whose sockets run on `group`. `serverPort` is the gateway's port (5351; tests
    /// point it at a fake on loopback); the schedules default to the RFCs'.
    public init(
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        serverPort: UInt16 = PCP.serverPort,
        natPMPSchedule: RetransmissionSchedule = .natPMP,
        pcpSchedule: RetransmissionSchedule = .pcp,
        logger: Logger = Logger(label: "portkeeper.pcp")
    ) {
        self.group = group
        self.serverPort = serverPort
        self.natPMPSchedule = natPMPSchedule
        self.pcpSchedule = pcpSchedule
        self.logger = logger
    }

    /// Asks the gateway for its external address over NAT-PMP (also the NAT-PMP probe), sent
    /// again as `schedule` says (nil: the client's NAT-PMP schedule; discovery passes its own).
    /// - Throws: ``DeadlineExceeded`` when `deadline` runs out first, ``TransportError``
    ///   (`timeout`) when the schedule's last wait passes unanswered, or when no socket can be
    ///   opened towards `gateway` (`unreachable`, `network`); `CancellationError` when the task
    ///   is cancelled.
    public func natPMPExternalAddress(gateway: IPv4Address, deadline: Deadline, schedule: RetransmissionSchedule? = nil) async throws -> PortControlReply<NATPMP.ExternalAddressResponse> {
        try await exchange(gateway: gateway, deadline: deadline, schedule: schedule ?? natPMPSchedule, action: "the NAT-PMP external-address request") { _ in
            NATPMP.ExternalAddressRequest().encoded()
        } accept: { bytes, _ throws(PCPViolation) in
            try NATPMP.ExternalAddressResponse(decoding: bytes)
        }
    }

    /// Creates, renews or (lifetime 0) deletes a NAT-PMP mapping.
    /// - Throws: as ``natPMPExternalAddress(gateway:deadline:schedule:)``.
    public func natPMPMap(_ request: NATPMP.MapRequest, gateway: IPv4Address, deadline: Deadline) async throws -> PortControlReply<NATPMP.MapResponse> {
        let verb = request.isDelete ? "delete" : "map"
        return try await exchange(gateway: gateway, deadline: deadline, schedule: natPMPSchedule, action: "the NAT-PMP \(verb) of \(request.protocol) \(request.internalPort)") { _ in
            request.encoded()
        } accept: { bytes, _ throws(PCPViolation) in
            let response = try NATPMP.MapResponse(decoding: bytes)
            try response.check(answering: request)
            return response
        }
    }

    /// Sends a PCP MAP: creates, renews or (lifetime 0) deletes the mapping keyed by `nonce`.
    /// The client address is the local address the request leaves from.
    ///
    /// The answer is `PCP.Answer.pcp` (checked to answer this request), or
    /// `PCP.Answer.natPMPUnsupportedVersion` when the gateway
    /// speaks NAT-PMP only: the caller falls back to ``natPMPMap(_:gateway:deadline:)``.
    /// - Throws: as ``natPMPExternalAddress(gateway:deadline:schedule:)``.
    public func pcpMap(
        nonce: PCP.Nonce, protocol: TransportProtocol, internalPort: UInt16, suggestedExternalPort: UInt16 = 0,
        suggestedExternalAddress: IPv4Address = PCP.MapRequest.anyAddress, lifetime: UInt32,
        gateway: IPv4Address, deadline: Deadline
    ) async throws -> PortControlReply<PCP.Answer> {
        let verb = lifetime == 0 ? "delete" : "MAP"
        return try await exchange(gateway: gateway, deadline: deadline, schedule: pcpSchedule, action: "the PCP \(verb) of \(`protocol`) \(internalPort)") { client in
            PCP.MapRequest(
                nonce: nonce, protocol: `protocol`, internalPort: internalPort, suggestedExternalPort: suggestedExternalPort,
                suggestedExternalAddress: suggestedExternalAddress, lifetime: lifetime, clientAddress: client
            ).encoded()
        } accept: { bytes, client throws(PCPViolation) in
            let answer = try PCP.Answer(decoding: bytes, answering: .map)
            if case .pcp(let response) = answer {
                try response.check(answering: PCP.MapRequest(
                    nonce: nonce, protocol: `protocol`, internalPort: internalPort, suggestedExternalPort: suggestedExternalPort,
                    suggestedExternalAddress: suggestedExternalAddress, lifetime: lifetime, clientAddress: client
                ))
            }
            return answer
        }
    }

    /// Sends a PCP ANNOUNCE (the PCP probe, and the server's epoch), again as `schedule` says
    /// (nil: the client's PCP schedule). A NAT-PMP-only gateway answers
    /// `PCP.Answer.natPMPUnsupportedVersion`.
    /// - Throws: as ``natPMPExternalAddress(gateway:deadline:schedule:)``.
    public func pcpAnnounce(gateway: IPv4Address, deadline: Deadline, schedule: RetransmissionSchedule? = nil) async throws -> PortControlReply<PCP.Answer> {
        try await exchange(gateway: gateway, deadline: deadline, schedule: schedule ?? pcpSchedule, action: "the PCP ANNOUNCE") { client in
            PCP.AnnounceRequest(clientAddress: client).encoded()
        } accept: { bytes, _ throws(PCPViolation) in
            try PCP.Answer(decoding: bytes, answering: .announce)
        }
    }

    enum Event: Sendable {
        case datagram(source: SocketAddress, bytes: [UInt8], at: ContinuousClock.Instant)
        /// The wait after send `number` is over.
        case waited(after: Int)
        case deadline
    }

    /// One exchange: open a socket connected to the gateway, send `request(clientAddress)`, and
    /// read datagrams until `accept` takes one, sending again as `schedule` says.
    func exchange<Answer: Sendable>(
        gateway: IPv4Address, deadline: Deadline, schedule: RetransmissionSchedule, action: String,
        request: (IPv4Address) -> [UInt8],
        accept: (_ bytes: [UInt8], _ clientAddress: IPv4Address) throws(PCPViolation) -> Answer
    ) async throws -> PortControlReply<Answer> {
        let peer = "\(gateway):\(serverPort)"
        guard !deadline.hasPassed else { throw deadline.exceeded(during: "\(action) to \(peer)") }
        let (stream, continuation) = AsyncStream<Event>.makeStream()
        let gatewayAddress: SocketAddress
        do {
            gatewayAddress = try SocketAddress(ipAddress: gateway.description, port: Int(serverPort))
        } catch {
            throw TransportError(.network, url: peer, "not an address to send to (\(error))", action: action)
        }
        let channel: any Channel
        do {
            channel = try await DatagramBootstrap(group: group)
                // One byte over the cap, so that an oversized datagram is seen as such, not cut to fit.
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: PCP.maxMessageBytes + 1))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(PortControlReceiver(continuation: continuation, logger: logger))
                    }
                }
                .connect(to: gatewayAddress)
                .get()
        } catch {
            continuation.finish()
            throw TransportError(HTTPTransport.connectFailureKind(error), url: peer, "cannot open a UDP socket towards the gateway (\(error))", action: action)
        }
        defer {
            continuation.finish()
            channel.close(promise: nil)
        }
        guard let local = channel.localAddress?.ipAddress.flatMap({ IPv4Address($0) }) else {
            throw TransportError(.network, url: peer, "the UDP socket towards the gateway has no local IPv4 address", action: action)
        }
        let datagram = request(local)
        let eventLoop = channel.eventLoop
        let deadlineTask = eventLoop.scheduleTask(in: .nanoseconds(max(deadline.remaining, .zero).nanoseconds)) { continuation.yield(.deadline) }
        var waitTask: Scheduled<Void>?
        defer {
            deadlineTask.cancel()
            waitTask?.cancel()
        }
        var random = SystemRandomNumberGenerator()
        var sent = 0
        var previousWait: Duration?
        var totalWait = Duration.zero
        func send() {
            sent += 1
            let wait = schedule.wait(afterSend: sent, previous: previousWait, using: &random)
            previousWait = wait
            totalWait += wait
            channel.writeAndFlush(AddressedEnvelope(remoteAddress: gatewayAddress, data: ByteBuffer(bytes: datagram)), promise: nil)
            let number = sent
            waitTask = eventLoop.scheduleTask(in: .nanoseconds(wait.nanoseconds)) { continuation.yield(.waited(after: number)) }
        }
        send()

        var ignored = 0
        for await event in stream {
            switch event {
            case .deadline:
                throw deadline.exceeded(during: "\(action) to \(peer), sent \(sent) time\(sent == 1 ? "" : "s")")
            case .waited(let number):
                guard number == sent else { continue }
                if let most = schedule.maximumSends, sent >= most {
                    throw TransportError(.timeout, url: peer, "no answer to \(sent) requests", limit: totalWait, action: action)
                }
                logger.debug("no answer from \(peer) to \(action) yet; sending it again")
                send()
            case .datagram(let source, let bytes, let at):
                guard source.ipAddress == gateway.description, source.port == Int(serverPort) else {
                    ignored += 1
                    logger.debug("ignored a datagram from \(source), not the gateway \(peer)")
                    continue
                }
                guard bytes.count <= PCP.maxMessageBytes else {
                    ignored += 1
                    logger.debug("ignored a datagram of more than \(PCP.maxMessageBytes) bytes from \(peer)")
                    continue
                }
                do {
                    let answer = try accept(bytes, local)
                    return PortControlReply(answer: answer, clientAddress: local, receivedAt: at, requestsSent: sent, ignored: ignored)
                } catch {
                    ignored += 1
                    logger.debug("ignored a datagram from \(peer) while waiting for \(action): \(error)")
                }
            }
        }
        // The stream ends only when the exchange ends; reaching here means the task was cancelled.
        try Task.checkCancellation()
        throw deadline.exceeded(during: "\(action) to \(peer)")
    }
}

/// Hands every datagram the socket reads to the exchange, stamped with its arrival time.
private final class PortControlReceiver: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let continuation: AsyncStream<PortControlClient.Event>.Continuation
    let logger: Logger
    /// Datagrams handed over so far; the stream holds at most ``PortControlClient/maxDatagrams``.
    var count = 0

    init(continuation: AsyncStream<PortControlClient.Event>.Continuation, logger: Logger) {
        self.continuation = continuation
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let now = ContinuousClock.now
        count += 1
        guard count <= PortControlClient.maxDatagrams else { return }
        var envelope = unwrapInboundIn(data)
        let bytes = envelope.data.readBytes(length: envelope.data.readableBytes) ?? []
        continuation.yield(.datagram(source: envelope.remoteAddress, bytes: bytes, at: now))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // An ICMP error (port unreachable) on a connected UDP socket: anyone on the path can
        // send one, so it is no answer; keep waiting until the schedule or the deadline ends.
        logger.debug("UDP socket error while waiting for a NAT-PMP/PCP answer: \(error)")
    }
}
