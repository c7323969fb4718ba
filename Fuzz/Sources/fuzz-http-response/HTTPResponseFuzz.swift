import FuzzSupport
@_spi(Fuzzing) import IGDClient
import NIOCore
import NIOEmbedded
import NIOHTTP1

/// A gateway's HTTP answer, fed through the very handlers `HTTPTransport` puts on a connection
/// (NIOHTTP1's response decoder, chunked decoding, our capped collector) on an EmbeddedChannel.
///
/// Input: byte 0 picks the request method (bit 0) and how the answer is cut into reads (bits
/// 1-7: that many bytes per read, 0 for one read); byte 1 picks the body cap (0: 1 MiB, else
/// 64 bytes per unit); the rest is what the server sends before it closes the connection.
///
/// Contract: the exchange always ends once the server has closed. A response has a body within
/// the cap and, re-encoded with a Content-Length, is read back the same; a failure is a
/// TransportError saying the answer was too large, cut short or malformed. Nothing else.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPResponse(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = Contract.bytes(data, size)
    guard input.count >= 2 else { return 0 }
    let method: HTTPMethod = input[0] & 1 == 0 ? .GET : .POST
    let segment = Int(input[0] >> 1)
    let maxBody = input[1] == 0 ? 1 << 20 : Int(input[1]) * 64
    let wire = Array(input.dropFirst(2))

    switch exchange(wire, method: method, segment: segment, maxBody: maxBody) {
    case .success(let response):
        Contract.require(response.body.count <= maxBody, "a \(response.body.count)-byte body passed the \(maxBody)-byte cap")
        let again = exchange(encode(response), method: method, segment: 0, maxBody: maxBody)
        guard case .success(let second) = again else {
            fatalError("contract violated: response re-encoded to one the transport refuses (\(again)):\n\(String(decoding: encode(response), as: UTF8.self))")
        }
        Contract.require(second.status == response.status, "status \(response.status) read back as \(second.status)")
        Contract.require(second.body == response.body, "body of \(response.body.count) bytes read back as \(second.body.count) bytes")
        Contract.require(endToEnd(second) == endToEnd(response), "headers \(endToEnd(response)) read back as \(endToEnd(second))")
    case .failure(let error):
        guard let transport = error as? TransportError else { Contract.undocumented(error, from: "the HTTP response pipeline") }
        let documented: [TransportError.Kind] = [.tooLarge, .closedEarly, .malformedResponse]
        Contract.require(documented.contains(transport.kind), "bytes alone produced a \(transport.kind) failure: \(transport)")
    }
    return 0
}

/// Holds the outcome the promise delivers (EmbeddedChannel runs everything on this thread).
final class Outcome: @unchecked Sendable {
    var result: Result<HTTPResponse, any Error>?
}

/// Sends a request on an EmbeddedChannel carrying the transport's handlers, feeds `wire` as
/// the server's answer `segment` bytes at a time, then closes the connection as the server would.
func exchange(_ wire: [UInt8], method: HTTPMethod, segment: Int, maxBody: Int) -> Result<HTTPResponse, any Error> {
    let channel = EmbeddedChannel()
    let promise = channel.eventLoop.makePromise(of: HTTPResponse.self)
    let outcome = Outcome()
    promise.futureResult.whenComplete { outcome.result = $0 }
    do {
        try HTTPTransport.addResponseHandlers(to: channel, promise: promise, url: "http://192.168.1.1:5000/ctl", maxBody: maxBody, readTimeout: .seconds(3))
    } catch {
        fatalError("cannot set up the pipeline: \(error)")
    }
    channel.connect(to: try! SocketAddress(ipAddress: "192.168.1.1", port: 5000), promise: nil)
    var headers = HTTPHeaders()
    headers.add(name: "Host", value: "192.168.1.1:5000")
    headers.add(name: "Connection", value: "close")
    _ = try? channel.writeOutbound(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: method, uri: "/ctl", headers: headers)))
    _ = try? channel.writeOutbound(HTTPClientRequestPart.end(nil))

    let step = segment == 0 ? max(wire.count, 1) : segment
    var offset = 0
    while offset < wire.count, outcome.result == nil, channel.isActive {
        let end = min(wire.count, offset + step)
        _ = try? channel.writeInbound(channel.allocator.buffer(bytes: wire[offset..<end]))
        offset = end
    }
    channel.close(promise: nil)
    channel.embeddedEventLoop.run()
    _ = try? channel.finish(acceptAlreadyClosed: true)
    guard let result = outcome.result else {
        fatalError("contract violated: no outcome after the server closed the connection (the request would wait for its deadline)")
    }
    return result
}

/// The response as a server would send it with a Content-Length.
func encode(_ response: HTTPResponse) -> [UInt8] {
    // Three digits, as on the wire: llhttp reads "020" as status 20.
    let digits = String(response.status)
    var text = "HTTP/1.1 \(String(repeating: "0", count: max(0, 3 - digits.count)) + digits) Fuzz\r\n"
    for (name, value) in response.headers where !isFraming(name) { text += "\(name): \(value)\r\n" }
    text += "Content-Length: \(response.body.count)\r\n\r\n"
    return Array(text.utf8) + response.body
}

func isFraming(_ name: String) -> Bool {
    ["content-length", "transfer-encoding"].contains(name.lowercased())
}

/// The headers other than the framing ones, in order.
func endToEnd(_ response: HTTPResponse) -> [String] {
    response.headers.filter { !isFraming($0.name) }.map { "\($0.name): \($0.value)" }
}
