import Foundation
import IGDClient
import IGDProtocol
import IGDTestSupport
import Testing

extension AgainstFakes {
    /// HTTPTransport against a fake HTTP server that misbehaves on demand.
    @Suite("HTTP transport")
    struct HTTPTransportTests {
        let transport = HTTPTransport()

        /// GETs `path` from a server answering every request with `reply`; returns the result,
        /// the time it took and the requests the server saw.
        func get(
            _ reply: FakeHTTPReply,
            path: String = "/x",
            limits: HTTPLimits = roomyLimits
        ) async throws -> (result: Result<HTTPResponse, any Error>, elapsed: Duration, requests: [FakeHTTPRequest]) {
            try await withServer({ _ in reply }) { server in
                let target = try url(server, path)
                let (result, elapsed) = await timed { try await transport.get(target, limits: limits) }
                return (result, elapsed, server.requests)
            }
        }

        func transportError(_ result: Result<HTTPResponse, any Error>) throws -> TransportError {
            let error = try #require(result.failure, "expected a failure, got \(result)")
            return try #require(error as? TransportError, "expected a TransportError, got \(error)")
        }

        @Test("A plain response is read with its status, headers and body")
        func plainResponse() async throws {
            let (result, _, requests) = try await get(.response(status: 200, headers: [("X-Test", "yes")], body: Array("hello".utf8)), path: "/UD/?6")
            let response = try result.get()
            #expect(response.status == 200)
            #expect(response.header("x-test") == "yes")
            #expect(response.body == Array("hello".utf8))
            let request = try #require(requests.first)
            #expect(requests.count == 1)
            #expect(request.method == "GET")
            #expect(request.target == "/UD/?6")
            #expect(request.header("Connection")?.lowercased() == "close")
        }

        @Test("A chunked description is decoded and parsed")
        func chunkedDescription() async throws {
            try await withGateway(.noURLBase()) { gateway in
                let xml = gateway.profile.descriptionXML
                let bytes = Array(xml.utf8)
                let chunks = stride(from: 0, to: bytes.count, by: 97).map { Array(bytes[$0..<min($0 + 97, bytes.count)]) }
                gateway.override(path: gateway.profile.descriptionPath, reply: .chunked(status: 200, headers: [("Content-Type", "text/xml")], chunks: chunks))
                let response = try await transport.get(try descriptionURL(gateway), limits: roomyLimits)
                #expect(response.body == bytes)
                let described = try await makeClient().describe(try descriptionURL(gateway))
                #expect(described.friendlyName == "Relative URL Gateway")
                #expect(described.service.controlURL.target == "/desc/ctl/IPConn")
            }
        }

        @Test("Lower-case header names and a lower-case reason phrase are accepted")
        func lowerCaseHead() async throws {
            let raw = "HTTP/1.1 200 ok\r\ncontent-type: text/xml\r\ncontent-length: 5\r\nx-odd: 1\r\n\r\nhello"
            let response = try await get(.raw(Array(raw.utf8))).result.get()
            #expect(response.status == 200)
            #expect(response.header("Content-Type") == "text/xml")
            #expect(response.body == Array("hello".utf8))
        }

        @Test("A body delimited by the connection closing is read to the end")
        func bodyUntilClose() async throws {
            let raw = "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n\r\n<root/>"
            let response = try await get(.raw(Array(raw.utf8))).result.get()
            #expect(response.body == Array("<root/>".utf8))
        }

        @Test("A redirect is not followed", arguments: [301, 302, 303, 307, 308])
        func redirectIsNotFollowed(status: Int) async throws {
            try await withServer({ request in
                request.path == "/start" ? .redirect(status, to: "/elsewhere") : .text(200, "<root/>")
            }) { server in
                let error = await #expect(throws: TransportError.self) { try await transport.get(try url(server, "/start"), limits: roomyLimits) }
                #expect(error?.kind == .redirect)
                #expect(error?.detail.contains("/elsewhere") == true)
                #expect(server.requests.map(\.target) == ["/start"])
            }
        }

        @Test("A server that never answers times out at about the deadline")
        func hangTimesOut() async throws {
            let (result, elapsed, _) = try await get(.hang, limits: shortLimits)
            #expect(try transportError(result).kind == .timeout)
            #expect(elapsed >= .milliseconds(2900))
            // Ended at all: without the deadline it would wait forever. No tighter bound: a busy
            // machine fires timers late.
            #expect(elapsed < .seconds(30))
        }

        @Test("A drip that outlasts the deadline times out")
        func slowDripTimesOut() async throws {
            let body = String(repeating: "x", count: 400)
            let bytes = Array("HTTP/1.1 200 OK\r\nContent-Length: \(body.count)\r\n\r\n\(body)".utf8)
            let (result, _, _) = try await get(.slow(bytes: bytes, chunkSize: 4, interval: .milliseconds(100)), limits: shortLimits)
            // Without the deadline the 10 s drip would be read whole: the kind tells them apart.
            #expect(try transportError(result).kind == .timeout)
        }

        @Test("A chunked body that never ends, each chunk small and in time, ends at the overall deadline")
        func endlessChunkedDrip() async throws {
            // 2,000 one-byte chunks, one every 50 ms: under the cap, never silent for long,
            // and 100 s to the end.
            let chunks = String(repeating: "1\r\nx\r\n", count: 2_000)
            let bytes = Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\(chunks)0\r\n\r\n".utf8)
            let (result, _, _) = try await get(.slow(bytes: bytes, chunkSize: 6, interval: .milliseconds(50)), limits: shortLimits)
            let error = try transportError(result)
            #expect(error.kind == .timeout)
            #expect(error.detail == "no complete answer within 3 s")
            #expect(error.limit == .seconds(3))
        }

        @Test("Silence longer than the read timeout ends the exchange before the overall deadline")
        func readTimeout() async throws {
            let bytes = Array("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello".utf8)
            let limits = HTTPLimits(connectTimeout: .seconds(10), readTimeout: .milliseconds(300), deadline: .seconds(60))
            let (result, elapsed, _) = try await get(.slow(bytes: bytes, chunkSize: 10, interval: .seconds(2)), limits: limits)
            let error = try transportError(result)
            #expect(error.kind == .timeout)
            #expect(error.detail.contains("sent nothing for"))
            #expect(elapsed < .seconds(30), "the overall deadline (60 s) ended it, not the read timeout")
        }

        @Test("A drip that ends within the deadline is read")
        func slowDripWithinDeadline() async throws {
            let bytes = Array("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello".utf8)
            let (result, _, _) = try await get(.slow(bytes: bytes, chunkSize: 8, interval: .milliseconds(20)))
            #expect(try result.get().body == Array("hello".utf8))
        }

        @Test("An endless body stops at the cap, quickly")
        func endlessBody() async throws {
            let (result, _, _) = try await get(.endless(status: 200, headers: [("Content-Type", "text/xml")]), limits: roomyLimits)
            // The cap, not the 30 s deadline, ended it.
            #expect(try transportError(result).kind == .tooLarge)
        }

        @Test("A chunked body over the cap is refused")
        func chunkedTooLarge() async throws {
            let chunk = [UInt8](repeating: 0x61, count: 4096)
            let (result, _, _) = try await get(.chunked(status: 200, headers: [], chunks: Array(repeating: chunk, count: 10)),
                                               limits: roomyLimits.withMaxBody(16 * 1024))
            #expect(try transportError(result).kind == .tooLarge)
        }

        @Test("A Content-Length over the cap is refused before the body arrives")
        func announcedTooLarge() async throws {
            let raw = "HTTP/1.1 200 OK\r\nContent-Length: \(2 << 20)\r\n\r\nabc"
            let (result, elapsed, _) = try await get(.raw(Array(raw.utf8)))
            let error = try transportError(result)
            #expect(error.kind == .tooLarge)
            #expect(error.detail.contains("\(2 << 20)"))
            _ = elapsed
        }

        @Test("A body of exactly the cap is accepted, one byte more is refused", arguments: [(1 << 20, true), ((1 << 20) + 1, false)])
        func capBoundary(size: Int, accepted: Bool) async throws {
            let body = [UInt8](repeating: 0x20, count: size)
            let (result, _, _) = try await get(.response(status: 200, body: body), limits: roomyLimits)
            if accepted {
                #expect(try result.get().body.count == size)
            } else {
                #expect(try transportError(result).kind == .tooLarge)
            }
        }

        @Test("The same boundary holds for a body without Content-Length", arguments: [(1 << 20, true), ((1 << 20) + 1, false)])
        func capBoundaryWithoutLength(size: Int, accepted: Bool) async throws {
            let body = [UInt8](repeating: 0x20, count: size)
            let raw = Array("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".utf8) + body
            let (result, _, _) = try await get(.raw(raw), limits: roomyLimits)
            if accepted {
                #expect(try result.get().body.count == size)
            } else {
                #expect(try transportError(result).kind == .tooLarge)
            }
        }

        @Test("A connection closed without an answer is closedEarly")
        func closedWithoutAnswer() async throws {
            let (result, elapsed, requests) = try await get(.close)
            #expect(try transportError(result).kind == .closedEarly)
            #expect(requests.count == 1)
            _ = elapsed
        }

        @Test("A response cut short is closedEarly")
        func truncatedBody() async throws {
            let raw = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a little"
            let (result, _, _) = try await get(.raw(Array(raw.utf8)))
            let error = try transportError(result)
            #expect(error.kind == .closedEarly, "\(error.kind): \(error)")
        }

        @Test("Garbage instead of a status line is malformedResponse")
        func garbageResponse() async throws {
            let (result, _, _) = try await get(.raw(Array("SSH-2.0-OpenSSH_9.6\r\n\r\n".utf8)))
            #expect(try transportError(result).kind == .malformedResponse)
        }

        @Test("A port nobody listens on is connectionRefused")
        func connectionRefused() async throws {
            let server = try await FakeHTTPServer.start { _ in .close }
            let target = try url(server, "/desc.xml")
            await server.shutdown()
            let (result, elapsed) = await timed { try await transport.get(target) }
            let error = try transportError(result)
            #expect(error.kind == .connectionRefused)
            #expect(error.suggestsGatewayMoved)
            _ = elapsed
        }

        @Test("POST sends the body with its Content-Length and the extra headers")
        func postBody() async throws {
            try await withServer({ _ in .text(200, "ok") }) { server in
                let body = Array("<x>payload</x>".utf8)
                let response = try await transport.post(try url(server, "/ctl"), headers: [("SOAPAction", "\"urn:a#B\"")], body: body, limits: roomyLimits)
                #expect(response.status == 200)
                let request = try #require(server.requests.first)
                #expect(request.method == "POST")
                #expect(request.body == body)
                #expect(request.header("Content-Length") == String(body.count))
                #expect(request.header("SOAPAction") == "\"urn:a#B\"")
                #expect(request.header("Host") == "127.0.0.1:\(server.port)")
            }
        }
    }
}
