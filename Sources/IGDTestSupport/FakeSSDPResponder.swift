import NIOCore
import NIOPosix

/// A UDP responder on loopback standing in for a device's SSDP side.
///
/// Every datagram received is recorded (``searches``) and handed to the handler; the datagrams
/// it returns are sent back to the searcher (or wherever they say), delayed ones without
/// holding up anything else.
public final class FakeSSDPResponder: Sendable {
    /// The UDP port the responder listens on.
    public let port: Int
    private let channel: Channel
    private let state: LockedBox<State>

    /// What changes while the responder runs.
    struct State {
        var searches: [FakeSSDPSearch] = []
        var pending: [Int: Scheduled<Void>] = [:]
        var nextPendingID = 0
        var isShutDown = false
    }

    private init(port: Int, channel: Channel, state: LockedBox<State>) {
        self.port = port
        self.channel = channel
        self.state = state
    }

    /// Starts a responder on `host`:`port` (port 0 picks a free one) that answers with `handler`.
    ///
    /// The handler runs on an event loop thread for each datagram: keep it quick, and use the
    /// datagrams' `delay` rather than sleeping.
    /// A responder that floods should have a `group` of its own, so that its writes do not hold
    /// up the fakes of other tests on the shared loops.
    public static func start(
        host: String = "127.0.0.1",
        port: Int = 0,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        handler: @escaping @Sendable (FakeSSDPSearch) -> [FakeSSDPDatagram]
    ) async throws -> FakeSSDPResponder {
        let state = LockedBox(State())
        // SO_REUSEADDR only for a port asked for by number: on Linux, two UDP sockets that both
        // set it may be given the same ephemeral port, and one of them then hears nothing
        // (two responders of tests running in parallel did).
        let channel = try await DatagramBootstrap(group: group)
            .channelOption(.socketOption(.so_reuseaddr), value: port == 0 ? 0 : 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(SSDPHandler(state: state, handler: handler))
                }
            }
            .bind(host: host, port: port)
            .get()
        guard let boundPort = channel.localAddress?.port else {
            try? await channel.close()
            throw FakeServerError.noLocalAddress
        }
        return FakeSSDPResponder(port: boundPort, channel: channel, state: state)
    }

    /// Every datagram received so far, in order of arrival.
    public var searches: [FakeSSDPSearch] {
        state.withLock { $0.searches }
    }

    /// Forgets the recorded searches.
    public func clearSearches() {
        state.withLock { $0.searches.removeAll() }
    }

    /// Sends `datagram` to `host`:`port` from the responder's socket, e.g. an unsolicited NOTIFY.
    public func send(_ datagram: [UInt8], to host: String, port: Int) async throws {
        let address = try SocketAddress.makeAddressResolvingHost(host, port: port)
        let envelope = AddressedEnvelope(remoteAddress: address, data: ByteBuffer(bytes: datagram))
        try await channel.writeAndFlush(envelope)
    }

    /// Cancels delayed datagrams not yet sent and closes the socket. Calling it again does nothing.
    public func shutdown() async {
        let pending = state.withLock { state -> [Scheduled<Void>] in
            state.isShutDown = true
            defer { state.pending.removeAll() }
            return Array(state.pending.values)
        }
        for task in pending {
            task.cancel()
        }
        try? await channel.close()
    }
}

/// Reads datagrams, records them, asks the handler for replies and sends them.
private final class SSDPHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private let state: LockedBox<FakeSSDPResponder.State>
    private let handler: @Sendable (FakeSSDPSearch) -> [FakeSSDPDatagram]

    init(state: LockedBox<FakeSSDPResponder.State>, handler: @escaping @Sendable (FakeSSDPSearch) -> [FakeSSDPDatagram]) {
        self.state = state
        self.handler = handler
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let source = envelope.remoteAddress
        let search = FakeSSDPSearch(
            raw: String(decoding: envelope.data.readableBytesView, as: UTF8.self),
            sourceHost: source.ipAddress ?? "",
            sourcePort: source.port ?? 0
        )
        let isShutDown = state.withLock { state -> Bool in
            state.searches.append(search)
            return state.isShutDown
        }
        guard !isShutDown else { return }
        for datagram in handler(search) {
            send(datagram, replyingTo: source, context: context)
        }
    }

    /// Sends `datagram` now or schedules it, to its own destination or back to `source`.
    private func send(_ datagram: FakeSSDPDatagram, replyingTo source: SocketAddress, context: ChannelHandlerContext) {
        let destination: SocketAddress
        if let to = datagram.to {
            guard let address = try? SocketAddress.makeAddressResolvingHost(to.host, port: to.port) else { return }
            destination = address
        } else {
            destination = source
        }
        let envelope = AddressedEnvelope(remoteAddress: destination, data: ByteBuffer(bytes: datagram.bytes))
        guard datagram.delay > .zero else {
            context.writeAndFlush(wrapOutboundOut(envelope), promise: nil)
            return
        }
        let channel = context.channel
        let box = self.state
        box.withLock { state in
            let id = state.nextPendingID
            state.nextPendingID += 1
            state.pending[id] = channel.eventLoop.scheduleTask(in: TimeAmount(datagram.delay)) {
                let stillWanted = box.withLock { $0.pending.removeValue(forKey: id) != nil }
                if stillWanted {
                    channel.writeAndFlush(envelope, promise: nil)
                }
            }
        }
    }
}

extension TimeAmount {
    /// The same span as `duration`, to nanosecond precision.
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
