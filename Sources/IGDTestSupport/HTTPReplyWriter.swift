import NIOCore

/// Writes one ``FakeHTTPReply`` to a connection, misbehaviours included.
struct HTTPReplyWriter {
    /// The size of each piece of an endless body.
    static let endlessPieceSize = 16 * 1024
    /// The pause between pieces of an endless body.
    static let endlessInterval = Duration.milliseconds(2)

    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    /// The connection's event loop, which times the pauses of slow and endless replies.
    let eventLoop: any EventLoop

    /// Writes `reply` and tells whether the connection may carry another request.
    ///
    /// Write failures (the client went away, the server shut down) end the reply and answer
    /// false. `reader` is used by `.hang` to wait for the client to close.
    func write(_ reply: FakeHTTPReply, answering request: FakeHTTPRequest, reader: inout HTTPRequestReader) async -> Bool {
        do {
            switch reply {
            case .response(let status, let headers, let body):
                return try await writeResponse(status: status, headers: headers, body: body, request: request)
            case .chunked(let status, let headers, let chunks):
                return try await writeChunked(status: status, headers: headers, chunks: chunks, request: request)
            case .raw(let bytes):
                try await send(bytes)
                return false
            case .slow(let bytes, let chunkSize, let interval):
                try await writeSlowly(bytes, chunkSize: chunkSize, interval: interval)
                return false
            case .held(let bytes, let gate):
                await gate.wait()
                try await send(bytes)
                return false
            case .hang:
                await reader.drainUntilClosed()
                return false
            case .endless(let status, let headers):
                try await writeEndlessly(status: status, headers: headers)
                return false
            case .close:
                return false
            }
        } catch {
            return false
        }
    }

    /// Waits `duration` on the event loop's timer, not `Task.sleep`'s: a sleeping task is woken
    /// through Swift concurrency's shared pool, which the tests beside a fake may be holding
    /// (see ``FakeExecutor``); a future completed by the event loop resumes on the fakes' threads.
    private func pause(_ duration: Duration) async throws {
        let (seconds, attoseconds) = duration.components
        let nanoseconds = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
        try await eventLoop.scheduleTask(in: .nanoseconds(nanoseconds)) {}.futureResult.get()
        try Task.checkCancellation()
    }

    private func send(_ bytes: [UInt8]) async throws {
        try await outbound.write(ByteBuffer(bytes: bytes))
    }

    private func writeResponse(status: Int, headers: [(String, String)], body: [UInt8], request: FakeHTTPRequest) async throws -> Bool {
        var headers = headers
        let framed = HTTPHead.contains("Content-Length", in: headers)
            || (HTTPHead.value(of: "Transfer-Encoding", in: headers)?.lowercased().contains("chunked") ?? false)
        if !HTTPHead.contains("Content-Length", in: headers) && !HTTPHead.contains("Transfer-Encoding", in: headers) {
            headers.append(("Content-Length", String(body.count)))
        }
        let isHead = request.method.uppercased() == "HEAD"
        var bytes = HTTPHead.bytes(status: status, headers: headers)
        if !isHead { bytes += body }
        try await send(bytes)
        let delimited = framed || !HTTPHead.contains("Transfer-Encoding", in: headers)
        return delimited && request.wantsKeepAlive && !HTTPHead.saysClose(headers)
    }

    private func writeChunked(status: Int, headers: [(String, String)], chunks: [[UInt8]], request: FakeHTTPRequest) async throws -> Bool {
        var headers = headers
        if !HTTPHead.contains("Transfer-Encoding", in: headers) {
            headers.append(("Transfer-Encoding", "chunked"))
        }
        try await send(HTTPHead.bytes(status: status, headers: headers))
        for chunk in chunks where !chunk.isEmpty {
            try await send(Array(String(chunk.count, radix: 16).utf8) + [13, 10] + chunk + [13, 10])
        }
        try await send(Array("0\r\n\r\n".utf8))
        return request.wantsKeepAlive && !HTTPHead.saysClose(headers)
    }

    private func writeSlowly(_ bytes: [UInt8], chunkSize: Int, interval: Duration) async throws {
        let size = max(1, chunkSize)
        var start = 0
        while start < bytes.count {
            if start > 0 { try await pause(interval) }
            let end = min(bytes.count, start + size)
            try await send(Array(bytes[start..<end]))
            start = end
        }
    }

    private func writeEndlessly(status: Int, headers: [(String, String)]) async throws {
        try await send(HTTPHead.bytes(status: status, headers: headers))
        let pattern = Array("<!-- endless body from FakeHTTPServer -->\n".utf8)
        var piece: [UInt8] = []
        piece.reserveCapacity(Self.endlessPieceSize)
        while piece.count < Self.endlessPieceSize {
            piece.append(pattern[piece.count % pattern.count])
        }
        let buffer = ByteBuffer(bytes: piece)
        while !Task.isCancelled {
            try await outbound.write(buffer)
            try await pause(Self.endlessInterval)
        }
    }
}
