import NIOCore
import NIOHTTP1
import NIOPosix
import IGDProtocol
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Bounds on one HTTP exchange with a gateway.
public struct HTTPLimits: Sendable {
    /// The longest a connection may take to open.
    public var connectTimeout: Duration
    /// The longest silence while waiting for the answer, once connected.
    public var readTimeout: Duration
    /// From the start of the connection attempt to the last byte of the response.
    public var deadline: Duration
    /// The largest body read; a larger one is refused while it arrives.
    public var maxBodyBytes: Int

    /// Limits of 2 s to connect, 3 s of silence, 5 s in all and a 1 MiB body unless given.
    public init(connectTimeout: Duration = .seconds(2), readTimeout: Duration = .seconds(3), deadline: Duration = .seconds(5), maxBodyBytes: Int = 1 << 20) {
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.deadline = deadline
        self.maxBodyBytes = maxBodyBytes
    }

    /// 2 s to connect, 3 s of silence, 5 s in all, 1 MiB of body.
    public static let `default` = HTTPLimits()

    /// Limits for routers that may take up to `seconds` over one request (the default is 5):
    /// the connect and read timeouts keep their default share of it (2/5 and 3/5).
    public static func request(seconds: Double, maxBodyBytes: Int = 1 << 20) -> HTTPLimits {
        let whole = Duration.milliseconds(Int64((seconds * 1000).rounded()))
        return HTTPLimits(connectTimeout: whole * 2 / 5, readTimeout: whole * 3 / 5, deadline: whole, maxBodyBytes: maxBodyBytes)
    }
}

/// A response read in full within the limits.
public struct HTTPResponse: Sendable {
    /// The HTTP status code.
    public var status: Int
    /// The headers, in order, as sent.
    public var headers: [(name: String, value: String)]
    /// The body, chunked encoding removed.
    public var body: [UInt8]

    /// The first header named `name`, in any case; nil when there is none.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// A minimal HTTP/1.1 client on SwiftNIO for talking to gateways.
///
/// One request per connection (`Connection: close`), connect and overall deadlines, the
/// body capped, chunked bodies decoded, redirects never followed, only `GatewayURL`s (IPv4
/// literals) as targets.
public struct HTTPTransport: Sendable {
    let group: any EventLoopGroup

    /// A client whose connections run on `group`.
    public init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.group = group
    }

    /// GETs `url` (a device description).
    /// - Throws: `TransportError` when there is no complete answer within `limits`.
    public func get(_ url: GatewayURL, limits: HTTPLimits = .default) async throws -> HTTPResponse {
        try await send(method: .GET, url: url, headers: [], body: [], limits: limits)
    }

    /// POSTs `body` to `url` with `headers` (a SOAP action).
    /// - Throws: `TransportError` when there is no complete answer within `limits`.
    public func post(_ url: GatewayURL, headers: [(String, String)], body: [UInt8], limits: HTTPLimits = .default) async throws -> HTTPResponse {
        try await send(method: .POST, url: url, headers: headers, body: body, limits: limits)
    }

    func send(method: HTTPMethod, url: GatewayURL, headers extra: [(String, String)], body: [UInt8], limits: HTTPLimits) async throws -> HTTPResponse {
        let eventLoop = group.next()
        let promise = eventLoop.makePromise(of: HTTPResponse.self)
        let urlText = url.description
        let maxBody = limits.maxBodyBytes
        let connectTimeout = min(limits.connectTimeout, limits.deadline)
        let readTimeout = limits.readTimeout

        let deadlineTask = eventLoop.scheduleTask(in: .nanoseconds(limits.deadline.nanoseconds)) {
            promise.fail(TransportError(.timeout, url: urlText, "no complete answer within \(limits.deadline.secondsText)", limit: limits.deadline))
        }
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(.nanoseconds(connectTimeout.nanoseconds))
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try Self.addResponseHandlers(to: channel, promise: promise, url: urlText, maxBody: maxBody, readTimeout: readTimeout)
                }
            }

        var headers = HTTPHeaders()
        headers.add(name: "Host", value: url.hostHeader)
        headers.add(name: "Connection", value: "close")
        headers.add(name: "User-Agent", value: "Linux/1 UPnP/1.1 portkeeper/0.1")
        for (name, value) in extra { headers.add(name: name, value: value) }
        if method == .POST { headers.add(name: "Content-Length", value: String(body.count)) }
        let head = HTTPRequestHead(version: .http1_1, method: method, uri: url.target, headers: headers)

        let address: SocketAddress
        do {
            address = try SocketAddress(ipAddress: url.host.description, port: Int(url.port))
        } catch {
            throw TransportError(.network, url: urlText, "invalid address")
        }
        let connect = bootstrap.connect(to: address)
        connect.whenFailure { error in
            promise.fail(Self.connectFailure(error, url: urlText, timeout: connectTimeout))
        }
        connect.whenSuccess { channel in
            promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            if !body.isEmpty {
                channel.write(HTTPClientRequestPart.body(.byteBuffer(channel.allocator.buffer(bytes: body))), promise: nil)
            }
            channel.writeAndFlush(HTTPClientRequestPart.end(nil)).whenFailure { error in
                promise.fail(TransportError(.closedEarly, url: urlText, "could not send the request (\(error))"))
            }
        }
        defer { deadlineTask.cancel() }
        let response = try await promise.futureResult.get()
        if (300..<400).contains(response.status) {
            throw TransportError(.redirect, url: urlText, "answered HTTP \(response.status) redirect to \(response.header("Location") ?? "nowhere"), which is not followed")
        }
        return response
    }

    /// Installs the handlers that read one response on `channel` (read timeout, NIOHTTP1's
    /// codec, the capped collector); `promise` gets the response or a ``TransportError``.
    ///
    /// Exposed to the fuzz targets (Fuzz/), which drive it on an `EmbeddedChannel`; must be
    /// called on the channel's event loop.
    @_spi(Fuzzing)
    public static func addResponseHandlers(
        to channel: any Channel, promise: EventLoopPromise<HTTPResponse>, url: String, maxBody: Int, readTimeout: Duration
    ) throws {
        try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: .nanoseconds(readTimeout.nanoseconds)))
        try channel.pipeline.syncOperations.addHTTPClientHandlers()
        try channel.pipeline.syncOperations.addHandler(ResponseCollector(promise: promise, url: url, maxBody: maxBody, readTimeout: readTimeout))
    }

    /// A failed connection attempt as a ``TransportError``, classified by what NIO reports
    /// (its connect timeout, the socket's errno), never by the words of its message.
    static func connectFailure(_ error: any Error, url: String, timeout: Duration) -> TransportError {
        switch connectFailureKind(error) {
        case .connectTimeout:
            return TransportError(.connectTimeout, url: url, "no connection within \(timeout.secondsText)", limit: timeout)
        case .connectionRefused:
            return TransportError(.connectionRefused, url: url, "connection refused")
        case let kind:
            return TransportError(kind, url: url, "cannot connect (\(error))")
        }
    }

    /// The kind of a failed connection attempt: `connectTimeout` for NIO's own timeout or the
    /// kernel's (ETIMEDOUT), `connectionRefused` for ECONNREFUSED (nobody listens: the gateway
    /// restarted on another port, or is down), `unreachable` for no route to the host or its
    /// network, `network` for anything else. A ``NIOConnectionError`` (a connect by name) is
    /// judged by the last address it tried.
    static func connectFailureKind(_ error: any Error) -> TransportError.Kind {
        switch error {
        case ChannelError.connectTimeout:
            return .connectTimeout
        case let error as NIOConnectionError:
            return error.connectionErrors.last.map { connectFailureKind($0.error) } ?? .network
        case let error as IOError:
            return kind(errno: error.errnoCode)
        default:
            return .network
        }
    }

    /// What an errno from `connect(2)` says about the gateway.
    static func kind(errno code: CInt) -> TransportError.Kind {
        switch code {
        case ECONNREFUSED: return .connectionRefused
        case ETIMEDOUT: return .connectTimeout
        case EHOSTUNREACH, ENETUNREACH, EHOSTDOWN, ENETDOWN: return .unreachable
        default: return .network
        }
    }
}

/// Gathers one response, failing the promise when the body outgrows its cap or the peer
/// closes early.
private final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    let promise: EventLoopPromise<HTTPResponse>
    let url: String
    let maxBody: Int
    let readTimeout: Duration
    var head: HTTPResponseHead?
    var body: [UInt8] = []
    var done = false

    init(promise: EventLoopPromise<HTTPResponse>, url: String, maxBody: Int, readTimeout: Duration) {
        self.promise = promise
        self.url = url
        self.maxBody = maxBody
        self.readTimeout = readTimeout
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            finish(context, .failure(TransportError(.timeout, url: url, "sent nothing for \(readTimeout.secondsText)", limit: readTimeout)))
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { return }
        switch unwrapInboundIn(data) {
        case .head(let responseHead):
            head = responseHead
            if let length = responseHead.headers.first(name: "content-length").flatMap(Int.init), length > maxBody {
                finish(context, .failure(TransportError(.tooLarge, url: url, "announces a \(length)-byte body, over the \(maxBody)-byte limit")))
            }
        case .body(var buffer):
            guard body.count + buffer.readableBytes <= maxBody else {
                return finish(context, .failure(TransportError(.tooLarge, url: url, "body over the \(maxBody)-byte limit")))
            }
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard let head else {
                return finish(context, .failure(TransportError(.malformedResponse, url: url, "response without a status line")))
            }
            let response = HTTPResponse(
                status: Int(head.status.code),
                headers: head.headers.map { ($0.name, $0.value) },
                body: body
            )
            finish(context, .success(response))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(context, .failure(TransportError(.closedEarly, url: url, "connection closed before the response was complete")))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let failure: TransportError
        if let parserError = error as? HTTPParserError, parserError == .invalidEOFState {
            failure = TransportError(.closedEarly, url: url, "connection closed before the response was complete")
        } else if error is HTTPParserError {
            failure = TransportError(.malformedResponse, url: url, "malformed HTTP response (\(error))")
        } else {
            failure = TransportError(.network, url: url, "\(error)")
        }
        finish(context, .failure(failure))
    }

    func finish(_ context: ChannelHandlerContext, _ result: Result<HTTPResponse, TransportError>) {
        guard !done else { return }
        done = true
        promise.completeWith(result.mapError { $0 as any Error })
        context.close(promise: nil)
    }
}
