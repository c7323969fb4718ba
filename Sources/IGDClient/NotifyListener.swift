import Logging
import NIOCore
import NIOPosix
import IGDProtocol

/// Listens for a gateway's SSDP announcements (UDA 1.1 §1.2): `ssdp:alive` when it starts
/// or re-announces, `ssdp:byebye` when it leaves. Only datagrams from the gateway's own
/// address are passed on; everything else is dropped.
public final class NotifyListener: Sendable {
    /// Each announcement from the gateway, as it arrives; ends when the listener stops.
    public let notifications: AsyncStream<SSDP.Notify>
    let channel: any Channel
    let continuation: AsyncStream<SSDP.Notify>.Continuation

    init(channel: any Channel, notifications: AsyncStream<SSDP.Notify>, continuation: AsyncStream<SSDP.Notify>.Continuation) {
        self.channel = channel
        self.notifications = notifications
        self.continuation = continuation
    }

    /// Binds the SSDP port (shared with other listeners on this host) and joins the
    /// multicast group on the interface with `interfaceAddress`.
    /// - Parameters:
    ///   - interfaceAddress: the address of the interface facing the gateway.
    ///   - gateway: the only source address accepted.
    ///   - port: 1900; tests use another.
    ///   - joinGroup: false for tests that send NOTIFYs by unicast on loopback.
    ///   - group: the event loops the socket runs on.
    ///   - logger: where dropped datagrams are logged (trace level).
    public static func start(
        interfaceAddress: IPv4Address, gateway: IPv4Address, port: Int = UPnP.ssdpPort, joinGroup: Bool = true,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger = Logger(label: "portkeeper.notify")
    ) async throws -> NotifyListener {
        let (stream, continuation) = AsyncStream<SSDP.Notify>.makeStream(bufferingPolicy: .bufferingNewest(64))
        let channel = try await DatagramBootstrap(group: group)
            // Shared with other listeners on 1900; never for an ephemeral port (port 0), which
            // Linux could then hand to another socket that sets it too.
            .channelOption(.socketOption(.so_reuseaddr), value: port == 0 ? 0 : 1)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: SSDP.maxDatagramBytes + 1))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NotifyReceiver(gateway: gateway, continuation: continuation, logger: logger))
                }
            }
            .bind(host: "0.0.0.0", port: port)
            .get()
        if joinGroup, let multicast = channel as? any MulticastChannel {
            let device = (try? System.enumerateDevices())?.first { $0.address?.ipAddress == interfaceAddress.description }
            do {
                try await multicast.joinGroup(try SocketAddress(ipAddress: UPnP.ssdpMulticastAddress, port: port), device: device).get()
            } catch {
                try? await channel.close()
                continuation.finish()
                throw DiscoveryError("cannot join the SSDP multicast group on \(interfaceAddress): \(error)")
            }
        }
        return NotifyListener(channel: channel, notifications: stream, continuation: continuation)
    }

    /// Stops listening, closes the socket and ends ``notifications``.
    public func stop() async {
        continuation.finish()
        try? await channel.close()
    }
}

private final class NotifyReceiver: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let gateway: IPv4Address
    let continuation: AsyncStream<SSDP.Notify>.Continuation
    let logger: Logger

    init(gateway: IPv4Address, continuation: AsyncStream<SSDP.Notify>.Continuation, logger: Logger) {
        self.gateway = gateway
        self.continuation = continuation
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var envelope = unwrapInboundIn(data)
        guard envelope.data.readableBytes <= SSDP.maxDatagramBytes,
              let source = envelope.remoteAddress.ipAddress.flatMap({ IPv4Address($0) }), source == gateway
        else { return }
        let bytes = envelope.data.readBytes(length: envelope.data.readableBytes) ?? []
        do {
            if let notify = try SSDP.parseNotify(bytes) { continuation.yield(notify) }
        } catch {
            logger.debug("ignored SSDP datagram from \(source): \(error)")
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {}
}
