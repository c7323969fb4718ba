import NIOCore
import NIOPosix

/// A tiny HTTP/1.1 server on loopback whose every answer is chosen by a test.
///
/// Each request is recorded (``requests``) and handed to the handler, whose ``FakeHTTPReply``
/// may be a proper response or a misbehaviour (hang, endless body, abrupt close…). Connections
/// are kept alive between requests unless the client or the reply says otherwise.
/// ``shutdown()`` closes the listener and every open connection.
public final class FakeHTTPServer: Sendable {
    /// The TCP port the server listens on.
    public let port: Int
    /// The address part of ``baseURL`` (brackets added for IPv6).
    private let urlHost: String
    private let listener: Channel
    private let state: LockedBox<State>
    private let acceptTask: Task<Void, Never>

    /// What changes while the server runs.
    private struct State {
        var requests: [FakeHTTPRequest] = []
        /// Connections being served.
        var connections: [ObjectIdentifier: Channel] = [:]
        /// Connections accepted by NIO and not yet taken by the accept loop. Held here, not only
        /// in the listener's stream: an async channel dropped before its `executeThenClose` traps
        /// ("Deinited NIOAsyncWriter without calling finish()"), which is what happened to one
        /// that arrived as the listener closed. Whoever removes an entry owns it: the accept loop
        /// serves it, ``shutdown()`` closes it.
        var accepted: [ObjectIdentifier: NIOAsyncChannel<ByteBuffer, ByteBuffer>] = [:]
        var isShutDown = false
    }

    private init(port: Int, urlHost: String, listener: Channel, state: LockedBox<State>, acceptTask: Task<Void, Never>) {
        self.port = port
        self.urlHost = urlHost
        self.listener = listener
        self.state = state
        self.acceptTask = acceptTask
    }

    /// Starts a server on `host`:`port` (port 0 picks a free one) that answers with `handler`.
    public static func start(
        host: String = "127.0.0.1",
        port: Int = 0,
        handler: @escaping @Sendable (FakeHTTPRequest) async -> FakeHTTPReply
    ) async throws -> FakeHTTPServer {
        let state = LockedBox(State())
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try Self.adopt(channel, state: state)
                }
            }
        guard let boundPort = server.channel.localAddress?.port else {
            try? await server.channel.close()
            throw FakeServerError.noLocalAddress
        }
        // On the fakes' own threads: see FakeExecutor for why not the shared pool.
        let acceptTask = Task.onFakeThreads {
            await acceptConnections(on: server, state: state, handler: handler)
        }
        let urlHost = host == "0.0.0.0" ? "127.0.0.1" : (host.contains(":") ? "[\(host)]" : host)
        return FakeHTTPServer(port: boundPort, urlHost: urlHost, listener: server.channel, state: state, acceptTask: acceptTask)
    }

    /// "http://HOST:PORT", with no trailing slash.
    public var baseURL: String {
        "http://\(urlHost):\(port)"
    }

    /// Every request received so far, in order of arrival.
    public var requests: [FakeHTTPRequest] {
        state.withLock { $0.requests }
    }

    /// Forgets the recorded requests.
    public func clearRequests() {
        state.withLock { $0.requests.removeAll() }
    }

    /// Stops listening, closes every open connection (hanging and endless ones included) and
    /// waits until all connection work has ended. Calling it again does nothing more.
    public func shutdown() async {
        let (open, unserved) = state.withLock { state in
            state.isShutDown = true
            defer { state.accepted.removeAll() }
            return (Array(state.connections.values), Array(state.accepted.values))
        }
        try? await listener.close()
        for channel in open {
            try? await channel.close()
        }
        for connection in unserved {
            try? await connection.executeThenClose { _, _ in }
        }
        // Not cancelled: the accept loop ends when the closed listener's stream does; the
        // connections it still held were closed just above.
        await acceptTask.value
    }

    /// Accepts connections until the listener closes, serving each in a child task.
    /// Wraps a newly accepted channel for async use and keeps it in `accepted` until the accept
    /// loop takes it; after shutdown, closes it instead (nil). Runs on the channel's event loop.
    private static func adopt(_ channel: Channel, state: LockedBox<State>) throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer>? {
        let isShutDown = state.withLock { $0.isShutDown }
        guard !isShutDown else {
            channel.close(promise: nil)
            return nil
        }
        let connection = try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
        let kept = state.withLock { state -> Bool in
            guard !state.isShutDown else { return false }
            state.accepted[ObjectIdentifier(channel)] = connection
            return true
        }
        guard kept else {
            // Shut down between the two looks: close it the way NIO wants, on its own.
            Task.onFakeThreads { try? await connection.executeThenClose { _, _ in } }
            return nil
        }
        return connection
    }

    private static func acceptConnections(
        on server: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>?, Never>,
        state: LockedBox<State>,
        handler: @escaping @Sendable (FakeHTTPRequest) async -> FakeHTTPReply
    ) async {
        try? await server.executeThenClose { inbound in
            await withTaskGroup(of: Void.self) { group in
                do {
                    for try await adopted in inbound {
                        guard let adopted else { continue }
                        let id = ObjectIdentifier(adopted.channel)
                        // Taken from `accepted` only if shutdown() has not taken it to close.
                        let taken = state.withLock { state -> NIOAsyncChannel<ByteBuffer, ByteBuffer>? in
                            guard let connection = state.accepted.removeValue(forKey: id) else { return nil }
                            state.connections[id] = connection.channel
                            return connection
                        }
                        guard let connection = taken else { continue }
                        group.addTask {
                            await serve(connection, state: state, handler: handler)
                            state.withLock { _ = $0.connections.removeValue(forKey: id) }
                        }
                    }
                } catch {
                    // The listener failed or was closed: stop accepting; open connections finish
                    // on their own or are closed by shutdown().
                }
            }
        }
    }

    /// Answers the requests of one connection until it is to be closed.
    private static func serve(
        _ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>,
        state: LockedBox<State>,
        handler: @Sendable (FakeHTTPRequest) async -> FakeHTTPReply
    ) async {
        try? await connection.executeThenClose { inbound, outbound in
            var reader = HTTPRequestReader(inbound)
            let interim = ByteBuffer(string: "HTTP/1.1 100 Continue\r\n\r\n")
            while let request = await reader.next(sendContinue: { try await outbound.write(interim) }) {
                state.withLock { $0.requests.append(request) }
                let reply = await handler(request)
                let writer = HTTPReplyWriter(outbound: outbound, eventLoop: connection.channel.eventLoop)
                let keepOpen = await writer.write(reply, answering: request, reader: &reader)
                guard keepOpen, !Task.isCancelled else { return }
            }
        }
    }
}

/// Why a fake server could not start.
public enum FakeServerError: Error, CustomStringConvertible {
    /// The bound socket reported no local address.
    case noLocalAddress

    public var description: String {
        switch self {
        case .noLocalAddress: "the fake server's socket has no local address"
        }
    }
}
