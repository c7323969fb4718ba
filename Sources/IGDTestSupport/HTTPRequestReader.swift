import Foundation
import NIOCore

/// Cuts HTTP/1.x requests out of the byte stream of one connection.
///
/// The head is read up to CRLFCRLF (at most ``maxHeadBytes``), then Content-Length bytes of
/// body (at most ``maxBodyBytes``). Anything malformed or too large ends the connection.
struct HTTPRequestReader {
    /// The largest request head accepted, CRLFCRLF included.
    static let maxHeadBytes = 64 * 1024
    /// The largest request body accepted.
    static let maxBodyBytes = 1024 * 1024

    private var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private var buffer: [UInt8] = []
    /// How far the buffer has been searched for CRLFCRLF without finding it.
    private var scanned = 0
    /// Whether "100 Continue" was already sent for the request being read.
    private var continueSent = false

    init(_ inbound: NIOAsyncChannelInboundStream<ByteBuffer>) {
        iterator = inbound.makeAsyncIterator()
    }

    /// The next complete request, or nil when the client closed the connection or sent
    /// something that is not an acceptable request.
    ///
    /// When a client sent `Expect: 100-continue` and waits for the body to be invited,
    /// `sendContinue` is called once to write the interim response.
    mutating func next(sendContinue: () async throws -> Void) async -> FakeHTTPRequest? {
        while true {
            switch Self.parse(buffer, scanned: &scanned) {
            case .request(let request, let consumed):
                buffer.removeFirst(consumed)
                scanned = 0
                continueSent = false
                return request
            case .invalid:
                return nil
            case .needMore(let expectsContinue):
                if expectsContinue && !continueSent {
                    continueSent = true
                    do { try await sendContinue() } catch { return nil }
                }
                guard await receive() else { return nil }
            }
        }
    }

    /// Reads and discards everything until the client closes the connection (or it is closed
    /// under us, e.g. by a server shutdown).
    mutating func drainUntilClosed() async {
        buffer.removeAll()
        while await receive() {
            buffer.removeAll()
        }
    }

    /// Appends the next inbound bytes to the buffer; false at end of stream or on error.
    private mutating func receive() async -> Bool {
        do {
            guard let chunk = try await iterator.next() else { return false }
            buffer.append(contentsOf: chunk.readableBytesView)
            return true
        } catch {
            return false
        }
    }

    /// What the buffered bytes amount to.
    enum ParseResult {
        /// More bytes are needed; `expectsContinue` once the head is complete and asks for
        /// "100 Continue" before the body.
        case needMore(expectsContinue: Bool)
        case invalid
        case request(FakeHTTPRequest, consumed: Int)
    }

    /// Parses one request from the front of `bytes`; `scanned` remembers where the search for
    /// the end of the head left off.
    static func parse(_ bytes: [UInt8], scanned: inout Int) -> ParseResult {
        guard let headEnd = findHeadEnd(bytes, from: &scanned) else {
            return bytes.count > maxHeadBytes ? .invalid : .needMore(expectsContinue: false)
        }
        guard headEnd <= maxHeadBytes, let head = parseHead(bytes[..<(headEnd - 4)]) else {
            return .invalid
        }
        guard let length = head.contentLength else { return .invalid }
        guard bytes.count >= headEnd + length else {
            let expects = head.request.header("Expect")?.lowercased() == "100-continue"
            return .needMore(expectsContinue: expects && head.request.version != "HTTP/1.0")
        }
        var request = head.request
        request.body = Array(bytes[headEnd..<(headEnd + length)])
        return .request(request, consumed: headEnd + length)
    }

    /// The index just past the first CRLFCRLF, if there is one.
    private static func findHeadEnd(_ bytes: [UInt8], from scanned: inout Int) -> Int? {
        let cr: UInt8 = 13
        let lf: UInt8 = 10
        var index = max(0, scanned - 3)
        while index + 3 < bytes.count {
            if bytes[index] == cr && bytes[index + 1] == lf && bytes[index + 2] == cr && bytes[index + 3] == lf {
                return index + 4
            }
            index += 1
        }
        scanned = bytes.count
        return nil
    }

    /// A parsed head and the body length it announces (nil when that is unacceptable).
    private struct Head {
        var request: FakeHTTPRequest
        var contentLength: Int?
    }

    /// Parses the request line and header fields; nil when malformed.
    private static func parseHead(_ bytes: ArraySlice<UInt8>) -> Head? {
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = text.components(separatedBy: "\r\n")
        guard !lines.isEmpty else { return nil }
        let requestLine = lines.removeFirst().split(separator: " ", omittingEmptySubsequences: false)
        guard requestLine.count == 3,
              !requestLine[0].isEmpty, !requestLine[1].isEmpty,
              requestLine[2].hasPrefix("HTTP/1.")
        else { return nil }

        var headers: [(name: String, value: String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { return nil }
            let name = String(line[..<colon])
            guard !name.isEmpty, !name.contains(" "), !name.contains("\t") else { return nil }
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers.append((name: name, value: value))
        }
        let request = FakeHTTPRequest(
            method: String(requestLine[0]),
            target: String(requestLine[1]),
            version: String(requestLine[2]),
            headers: headers,
            body: []
        )
        return Head(request: request, contentLength: contentLength(of: headers))
    }

    /// The announced body length: 0 without Content-Length, nil when it is malformed,
    /// contradictory, too large, or the body is framed by Transfer-Encoding (unsupported here).
    private static func contentLength(of headers: [(name: String, value: String)]) -> Int? {
        if headers.contains(where: { $0.name.lowercased() == "transfer-encoding" }) { return nil }
        let values = headers.filter { $0.name.lowercased() == "content-length" }.map(\.value)
        guard let first = values.first else { return 0 }
        guard values.allSatisfy({ $0 == first }),
              !first.isEmpty, first.allSatisfy(\.isASCIIDigit),
              first.count <= 8, let length = Int(first), length <= maxBodyBytes
        else { return nil }
        return length
    }
}

extension Character {
    /// Whether this is one of the ASCII digits 0-9.
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
