import IGDProtocol
import NIOCore
import NIOPosix
import PCPProtocol

/// A request the fake NAT-PMP/PCP server received, with the fields a script needs read out of
/// it (by hand, at fixed offsets: the codecs decode answers, not requests).
public struct FakePCPRequest: Sendable {
    /// Its place among the requests received, from 0.
    public var index: Int
    /// The datagram as received.
    public var bytes: [UInt8]

    /// The version byte (0 NAT-PMP, 2 PCP), nil for an empty datagram.
    public var version: UInt8? { bytes.first }
    /// The opcode (without the response bit), nil when too short.
    public var opcode: UInt8? { bytes.count >= 2 ? bytes[1] & 0x7f : nil }

    /// A NAT-PMP mapping request's fields, nil for anything else.
    public var natPMPMap: (protocol: TransportProtocol, internalPort: UInt16, suggestedExternalPort: UInt16, lifetime: UInt32)? {
        guard bytes.count == 12, version == NATPMP.version, let opcode, opcode == 1 || opcode == 2 else { return nil }
        return (opcode == 1 ? .udp : .tcp, u16(4), u16(6), u32(8))
    }

    /// A PCP MAP request's fields, nil for anything else.
    public var pcpMap: (nonce: PCP.Nonce, protocol: TransportProtocol, internalPort: UInt16, suggestedExternalPort: UInt16, lifetime: UInt32, clientAddress: [UInt8])? {
        guard bytes.count >= PCP.headerBytes + PCP.mapBytes, version == PCP.version, opcode == PCP.Opcode.map.rawValue,
              let nonce = PCP.Nonce(bytes: Array(bytes[24..<36])),
              let proto = TransportProtocol(ianaProtocolNumber: bytes[36]) else { return nil }
        return (nonce, proto, u16(40), u16(42), u32(4), Array(bytes[8..<24]))
    }

    /// A PCP request's client address field (16 bytes), nil when too short.
    public var pcpClientAddress: [UInt8]? {
        bytes.count >= PCP.headerBytes && version == PCP.version ? Array(bytes[8..<24]) : nil
    }

    private func u16(_ at: Int) -> UInt16 { UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1]) }
    private func u32(_ at: Int) -> UInt32 { UInt32(u16(at)) << 16 | UInt32(u16(at + 2)) }
}

/// A datagram the fake sends back, and from where.
public struct FakePCPReply: Sendable {
    /// Which of the fake's sockets sends it.
    public enum Source: Sendable {
        /// The server's own address and port: what a client accepts.
        case server
        /// The server's address, another port.
        case otherPort
        /// Another loopback address (127.0.0.2), the server's port.
        case otherAddress
    }

    /// The datagram.
    public var bytes: [UInt8]
    /// The socket it leaves from.
    public var source: Source

    /// `bytes`, sent from `source`.
    public init(_ bytes: [UInt8], from source: Source = .server) {
        self.bytes = bytes
        self.source = source
    }
}

/// An in-process NAT-PMP/PCP server on loopback, scripted: for each request it receives, the
/// script says which datagrams go back and from which socket (none: the request is dropped).
/// Every request is recorded. ``FakePCPGateway`` gives the answers a well-behaved server would.
///
/// Its three sockets share one event loop, so replies leave in the order the script lists them.
public final class FakePCPServer: Sendable {
    /// The server's address (127.0.0.1).
    public let address: IPv4Address
    /// Its UDP port (the client's `serverPort`).
    public let port: UInt16
    private let channels: [any Channel]
    private let received: LockedBox<[FakePCPRequest]>

    private init(address: IPv4Address, port: UInt16, channels: [any Channel], received: LockedBox<[FakePCPRequest]>) {
        self.address = address
        self.port = port
        self.channels = channels
        self.received = received
    }

    /// Starts a server on 127.0.0.1 (a free port) answering with `script`, which runs on an
    /// event loop for each request: keep it quick.
    public static func start(
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        script: @escaping @Sendable (FakePCPRequest) -> [FakePCPReply]
    ) async throws -> FakePCPServer {
        let loop = group.next()
        let received = LockedBox<[FakePCPRequest]>([])
        let others = LockedBox<[FakePCPReply.Source: any Channel]>([:])
        let server = try await DatagramBootstrap(group: loop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(FakePCPHandler(received: received, others: others, script: script))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        guard let port = server.localAddress?.port else {
            try? await server.close()
            throw FakeServerError.noLocalAddress
        }
        let otherPort = try await DatagramBootstrap(group: loop).bind(host: "127.0.0.1", port: 0).get()
        let otherAddress = try await DatagramBootstrap(group: loop).bind(host: "127.0.0.2", port: port).get()
        others.withLock { $0 = [.otherPort: otherPort, .otherAddress: otherAddress] }
        return FakePCPServer(address: IPv4Address(127, 0, 0, 1), port: UInt16(port), channels: [server, otherPort, otherAddress], received: received)
    }

    /// Every request received so far, in order.
    public var requests: [FakePCPRequest] { received.snapshot }

    /// Closes the sockets, 127.0.0.2's first: its port is the server's, so it must be free
    /// before another fake can be given the server's port again.
    public func shutdown() async {
        for channel in channels.reversed() { try? await channel.close() }
    }
}

private final class FakePCPHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>
    let received: LockedBox<[FakePCPRequest]>
    let others: LockedBox<[FakePCPReply.Source: any Channel]>
    let script: @Sendable (FakePCPRequest) -> [FakePCPReply]

    init(received: LockedBox<[FakePCPRequest]>, others: LockedBox<[FakePCPReply.Source: any Channel]>, script: @escaping @Sendable (FakePCPRequest) -> [FakePCPReply]) {
        self.received = received
        self.others = others
        self.script = script
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var envelope = unwrapInboundIn(data)
        let bytes = envelope.data.readBytes(length: envelope.data.readableBytes) ?? []
        let request = received.withLock { list -> FakePCPRequest in
            let request = FakePCPRequest(index: list.count, bytes: bytes)
            list.append(request)
            return request
        }
        let channels = others.snapshot
        for reply in script(request) {
            let out = AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: ByteBuffer(bytes: reply.bytes))
            switch reply.source {
            case .server:
                context.writeAndFlush(wrapOutboundOut(out), promise: nil)
            case .otherPort, .otherAddress:
                channels[reply.source]?.writeAndFlush(out, promise: nil)
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {}
}

/// The answers of a well-behaved NAT-PMP/PCP gateway, with knobs for what miniupnpd cannot be
/// made to do: grant less lifetime than asked, assign another external port, refuse with a
/// result code, speak NAT-PMP only.
public struct FakePCPGateway: Sendable {
    /// The external address it reports and assigns.
    public var externalAddress = IPv4Address(203, 0, 113, 7)
    /// Its epoch (seconds), in every answer.
    public var epoch: UInt32 = 1000
    /// The longest lifetime it grants; a request for more gets this.
    public var maximumLifetime: UInt32?
    /// The external port it assigns instead of the one suggested.
    public var assignedPort: UInt16?
    /// The result of every PCP MAP (the mapping fields are still echoed).
    public var pcpResult: PCP.ResultCode = .success
    /// The result of every NAT-PMP mapping request.
    public var natPMPResult: NATPMP.ResultCode = .success
    /// False: a NAT-PMP-only server, which answers any PCP request with a version-0 UNSUPP_VERSION.
    public var speaksPCP = true

    /// A gateway that grants what is asked, from 203.0.113.7, at epoch 1000.
    public init() {}

    /// The answer to `request`, or nil for a datagram it would not answer.
    public func answer(_ request: FakePCPRequest) -> [UInt8]? {
        switch request.version {
        case NATPMP.version:
            if request.bytes.count == 2, request.opcode == 0 {
                return NATPMP.ExternalAddressResponse(result: .success, secondsSinceStartOfEpoch: epoch, externalAddress: externalAddress).encoded()
            }
            guard let map = request.natPMPMap else { return nil }
            guard natPMPResult == .success else {
                return NATPMP.MapResponse(protocol: map.protocol, result: natPMPResult, secondsSinceStartOfEpoch: epoch, mapping: .init(internalPort: map.internalPort, externalPort: 0, lifetime: 0)).encoded()
            }
            let lifetime = map.lifetime == 0 ? 0 : min(map.lifetime, maximumLifetime ?? .max)
            let external = map.lifetime == 0 ? 0 : assignedPort ?? (map.suggestedExternalPort == 0 ? map.internalPort : map.suggestedExternalPort)
            return NATPMP.MapResponse(protocol: map.protocol, result: .success, secondsSinceStartOfEpoch: epoch, mapping: .init(internalPort: map.internalPort, externalPort: external, lifetime: lifetime)).encoded()
        case PCP.version:
            guard speaksPCP else { return PCP.Answer.natPMPUnsupportedVersion(secondsSinceStartOfEpoch: epoch).encoded() }
            if request.opcode == PCP.Opcode.announce.rawValue {
                return PCP.Response(opcode: .announce, result: .success, lifetime: 0, epochTime: epoch).encoded()
            }
            guard let map = request.pcpMap else { return nil }
            let lifetime = pcpResult != .success ? 30 : map.lifetime == 0 ? 0 : min(map.lifetime, maximumLifetime ?? .max)
            let external = assignedPort ?? (map.suggestedExternalPort == 0 ? map.internalPort : map.suggestedExternalPort)
            let fields = PCP.MapFields(nonce: map.nonce, protocol: map.protocol, internalPort: map.internalPort, assignedExternalPort: external, assignedExternalAddress: externalAddress)
            return PCP.Response(opcode: .map, result: pcpResult, lifetime: lifetime, epochTime: epoch, map: fields).encoded()
        default:
            return nil
        }
    }

    /// The answer to `request` with the MAP nonce replaced by `nonce`: an answer to another mapping.
    public func answer(_ request: FakePCPRequest, nonce: PCP.Nonce) -> [UInt8]? {
        guard var bytes = answer(request), bytes.count >= PCP.headerBytes + PCP.mapBytes else { return nil }
        bytes.replaceSubrange(24..<36, with: nonce.bytes)
        return bytes
    }

    /// A script that answers every request as this gateway, dropping the first `dropFirst`.
    public func script(dropFirst: Int = 0) -> @Sendable (FakePCPRequest) -> [FakePCPReply] {
        { request in
            guard request.index >= dropFirst, let bytes = answer(request) else { return [] }
            return [FakePCPReply(bytes)]
        }
    }
}
