import Logging
import NIOCore
import NIOPosix
import IGDProtocol
import PCPProtocol

/// Listens for a PCP or NAT-PMP server's unsolicited announcements on 224.0.0.1:5350: a PCP
/// ANNOUNCE answer when it restarts (RFC 6887 §14.1.3), a NAT-PMP external-address answer when
/// it restarts or its address changes (RFC 6886 §3.2.1). Only datagrams from the gateway's
/// address and the server port (5351) are taken, and only those that decode as one of the two;
/// everything else is dropped and logged at debug level.
public final class AnnounceListener: Sendable {
    /// Each announcement from the gateway, as it arrives; ends when the listener stops.
    public let announcements: AsyncStream<ServerAnnouncement>
    let channel: any Channel
    let continuation: AsyncStream<ServerAnnouncement>.Continuation

    init(channel: any Channel, announcements: AsyncStream<ServerAnnouncement>, continuation: AsyncStream<ServerAnnouncement>.Continuation) {
        self.channel = channel
        self.announcements = announcements
        self.continuation = continuation
    }

    /// The all-hosts group the announcements are multicast to (RFC 6887 §8.1, RFC 6886 §3.2.1).
    public static let allHostsGroup = "224.0.0.1"

    /// Binds the announcement port (shared with other listeners on this host) and joins the
    /// all-hosts group on the interface with `interfaceAddress`.
    /// - Parameters:
    ///   - interfaceAddress: the address of the interface facing the gateway.
    ///   - gateway: the only source address accepted.
    ///   - serverPort: the only source port accepted: 5351, where the server sends from; tests use another.
    ///   - port: 5350; tests use another (0: any free one, see ``localPort``).
    ///   - joinGroup: false for tests that send announcements by unicast on loopback.
    ///   - group: the event loops the socket runs on.
    ///   - logger: where dropped datagrams are logged (debug level).
    /// - Throws: ``DiscoveryError`` when the port cannot be bound or the group joined.
    public static func start(
        interfaceAddress: IPv4Address, gateway: IPv4Address, serverPort: Int = Int(PCP.serverPort), port: Int = Int(PCP.announcePort),
        joinGroup: Bool = true,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger = Logger(label: "portkeeper.announce")
    ) async throws -> AnnounceListener {
        let (stream, continuation) = AsyncStream<ServerAnnouncement>.makeStream(bufferingPolicy: .bufferingNewest(16))
        let channel: any Channel
        do {
            channel = try await DatagramBootstrap(group: group)
                // Shared with other listeners on 5350 (each gets every multicast datagram); never
                // for an ephemeral port (port 0), which Linux could then hand to another socket that sets it too.
                .channelOption(.socketOption(.so_reuseaddr), value: port == 0 ? 0 : 1)
                // One byte over the limit, so that an oversized datagram is seen as such, not cut to size.
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: PCP.maxMessageBytes + 1))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            AnnounceReceiver(gateway: gateway, serverPort: serverPort, continuation: continuation, logger: logger))
                    }
                }
                .bind(host: "0.0.0.0", port: port)
                .get()
        } catch {
            continuation.finish()
            throw DiscoveryError("cannot listen for PCP/NAT-PMP announcements on UDP \(port): \(error)")
        }
        if joinGroup, let multicast = channel as? any MulticastChannel {
            let device = (try? System.enumerateDevices())?.first { $0.address?.ipAddress == interfaceAddress.description }
            do {
                try await multicast.joinGroup(try SocketAddress(ipAddress: allHostsGroup, port: port), device: device).get()
            } catch {
                try? await channel.close()
                continuation.finish()
                throw DiscoveryError("cannot join the all-hosts multicast group \(allHostsGroup) on \(interfaceAddress): \(error)")
            }
        }
        return AnnounceListener(channel: channel, announcements: stream, continuation: continuation)
    }

    /// The port it is bound to (the one chosen, when started with port 0).
    public var localPort: Int? { channel.localAddress?.port }

    /// Stops listening, closes the socket and ends ``announcements``.
    public func stop() async {
        continuation.finish()
        try? await channel.close()
    }
}

private final class AnnounceReceiver: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let gateway: IPv4Address
    let serverPort: Int
    let continuation: AsyncStream<ServerAnnouncement>.Continuation
    let logger: Logger

    init(gateway: IPv4Address, serverPort: Int, continuation: AsyncStream<ServerAnnouncement>.Continuation, logger: Logger) {
        self.gateway = gateway
        self.serverPort = serverPort
        self.continuation = continuation
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var envelope = unwrapInboundIn(data)
        let remote = envelope.remoteAddress
        guard let source = remote.ipAddress.flatMap({ IPv4Address($0) }), source == gateway, remote.port == serverPort else {
            logger.debug("ignored a datagram on the announcement port from \(remote), not the gateway's \(gateway):\(serverPort)")
            return
        }
        guard envelope.data.readableBytes <= PCP.maxMessageBytes else {
            logger.debug("ignored a datagram of more than \(PCP.maxMessageBytes) bytes from \(source) on the announcement port")
            return
        }
        let bytes = envelope.data.readBytes(length: envelope.data.readableBytes) ?? []
        do {
            continuation.yield(try ServerAnnouncement(decoding: bytes))
        } catch {
            logger.debug("ignored a datagram from \(source) on the announcement port: \(error)")
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {}
}
