#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@testable import IGDClient
import IGDProtocol
import NIOCore
import Testing

/// Issue 8 §5: a failed connection is classified by what NIO reports (its connect timeout,
/// the socket's errno), never by the words of its message.
@Suite("Connect failures are classified by errno")
struct ConnectFailureTests {
    @Test("Each errno of connect(2) names what happened to the gateway", arguments: [
        (ECONNREFUSED, TransportError.Kind.connectionRefused), (ETIMEDOUT, .connectTimeout),
        (EHOSTUNREACH, .unreachable), (ENETUNREACH, .unreachable), (EHOSTDOWN, .unreachable), (ENETDOWN, .unreachable),
        (ECONNRESET, .network), (EACCES, .network),
    ])
    func errnoKinds(code: CInt, kind: TransportError.Kind) {
        #expect(HTTPTransport.connectFailureKind(IOError(errnoCode: code, reason: "connect")) == kind)
    }

    @Test("NIO's connect timeout is connectTimeout, with the limit that ran out")
    func nioConnectTimeout() {
        let error = HTTPTransport.connectFailure(ChannelError.connectTimeout(.seconds(2)), url: "http://192.0.2.1:5000/ctl", timeout: .seconds(2))
        #expect(error.kind == .connectTimeout)
        #expect(error.limit == .seconds(2))
    }

    @Test("A refusal is told by its errno, not by its text: a message saying 'refused' without one is another network failure")
    func textIsNotEvidence() {
        struct Worded: Error, CustomStringConvertible {
            var description: String { "connection refused (errno: 111)" }
        }
        #expect(HTTPTransport.connectFailureKind(Worded()) == .network)
        let refused = HTTPTransport.connectFailure(IOError(errnoCode: ECONNREFUSED, reason: "x"), url: "http://192.0.2.1:5000/ctl", timeout: .seconds(2))
        #expect(refused.kind == .connectionRefused && refused.detail == "connection refused")
        let unreachable = HTTPTransport.connectFailure(IOError(errnoCode: EHOSTUNREACH, reason: "connect"), url: "http://192.0.2.1:5000/ctl", timeout: .seconds(2))
        #expect(unreachable.kind == .unreachable && unreachable.suggestsGatewayMoved)
    }

    @Test("A loopback port held by a socket that does not listen refuses the connection: connectionRefused")
    func closedLoopbackPort() async throws {
        // Bound and never listening, the port stays ours (no other process can take it
        // meanwhile) and the kernel answers a connection to it with a reset.
        #if canImport(Glibc)
        let stream = Int32(SOCK_STREAM.rawValue)
        #else
        let stream = SOCK_STREAM
        #endif
        let fd = socket(AF_INET, stream, 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        try #require(bound)
        let port = UInt16(bigEndian: address.sin_port)

        // Generous limits: the refusal is immediate, and the test does not depend on how fast.
        let limits = HTTPLimits(connectTimeout: .seconds(60), readTimeout: .seconds(60), deadline: .seconds(60))
        let error = await #expect(throws: TransportError.self) {
            try await HTTPTransport().get(try GatewayURL(parsing: "http://127.0.0.1:\(port)/rootDesc.xml"), limits: limits)
        }
        #expect(error?.kind == .connectionRefused, "\(String(describing: error))")
        #expect(error?.suggestsGatewayMoved == true)
    }
}
