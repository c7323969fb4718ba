#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// `GET /metrics` over HTTP/1.1 on a loopback address, for a Prometheus on the same machine.
///
/// Bounded: at most ``maxConnections`` open at once (more are closed at once), each closed
/// after its answer or after ``idleTimeout`` of silence; a request's head is capped by NIO's
/// decoder and its body is never kept.
public final class MetricsEndpoint: Sendable {
    public static let maxConnections = 8
    public static let idleTimeout: TimeAmount = .seconds(5)

    /// Where it listens (the port the system chose, when asked for 0).
    public let address: LoopbackAddress
    private let listener: any Channel

    private init(address: LoopbackAddress, listener: any Channel) {
        self.address = address
        self.listener = listener
    }

    /// Why the endpoint could not start, in the system's words ("Address already in use").
    public struct StartError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Starts listening on `address`.
    /// - Parameter render: the body of each answer to `GET /metrics`.
    /// - Throws: ``StartError`` when the address cannot be bound (the port is taken).
    public static func start(on address: LoopbackAddress, render: @escaping @Sendable () -> [UInt8]) async throws -> MetricsEndpoint {
        do {
            return try await bind(address, render: render)
        } catch let error as IOError {
            throw StartError(description: String(cString: strerror(error.errnoCode)))
        }
    }

    private static func bind(_ address: LoopbackAddress, render: @escaping @Sendable () -> [UInt8]) async throws -> MetricsEndpoint {
        let open = Mutex(0)
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 16)
            // A client that sends its request and shuts its side (socat, nc) still gets the answer.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                let admitted = open.withLock { count in
                    guard count < maxConnections else { return false }
                    count += 1
                    return true
                }
                guard admitted else { return channel.close() }
                channel.closeFuture.whenComplete { _ in open.withLock { $0 -= 1 } }
                return channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(IdleStateHandler(allTimeout: idleTimeout))
                    try pipeline.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: true)
                    try pipeline.addHandler(MetricsHTTPHandler(render: render))
                }
            }
            .bind(host: address.host, port: address.port).get()
        let bound = LoopbackAddress(host: address.host, port: listener.localAddress?.port ?? address.port)
        return MetricsEndpoint(address: bound, listener: listener)
    }

    /// Stops listening; connections still open end at their answer or their idle timeout.
    public func stop() async {
        try? await listener.close()
    }
}

/// One connection: answers each request with the metrics, a 404 or a 405, and closes.
final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let render: @Sendable () -> [UInt8]
    private var head: HTTPRequestHead?

    init(render: @escaping @Sendable () -> [UInt8]) {
        self.render = render
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break
        case .end:
            guard let head else { return }
            self.head = nil
            respond(to: head, in: context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    private func respond(to request: HTTPRequestHead, in context: ChannelHandlerContext) {
        let path = request.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        var headers = HTTPHeaders([("Connection", "close")])
        let status: HTTPResponseStatus
        var body: [UInt8]
        if path != "/metrics" {
            (status, body) = (.notFound, Array("not found: the metrics are at /metrics\n".utf8))
        } else if request.method != .GET && request.method != .HEAD {
            (status, body) = (.methodNotAllowed, Array("only GET and HEAD\n".utf8))
            headers.add(name: "Allow", value: "GET, HEAD")
        } else {
            (status, body) = (.ok, render())
        }
        headers.add(name: "Content-Type", value: status == .ok ? MetricsExposition.contentType : "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: String(body.count))
        if request.method == .HEAD { body = [] }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
        if !body.isEmpty { context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil) }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}
