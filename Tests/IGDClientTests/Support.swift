import Foundation
import IGDClient
import IGDProtocol
import IGDTestSupport
import NIOCore
import NIOPosix
import Testing

/// Short limits for tests that wait for a deadline on purpose: long enough for a connection to
/// a fake on loopback however busy the machine (the deadline bounds the connect too).
let shortLimits = HTTPLimits(connectTimeout: .seconds(3), deadline: .seconds(3))

/// Limits for tests that expect something other than a timeout: far longer than anything a
/// loopback exchange needs, however busy the machine (tests run in parallel).
let roomyLimits = HTTPLimits(connectTimeout: .seconds(10), readTimeout: .seconds(30), deadline: .seconds(30))

extension HTTPLimits {
    func withMaxBody(_ bytes: Int) -> HTTPLimits {
        HTTPLimits(connectTimeout: connectTimeout, readTimeout: readTimeout, deadline: deadline, maxBodyBytes: bytes)
    }
}

/// A client whose exchanges give up after `deadline`: generous by default, so that a loaded
/// machine does not turn a test about something else into a timeout.
func makeClient(deadline: Duration = .seconds(15), maxBodyBytes: Int = 1 << 20) -> GatewayClient {
    GatewayClient(limits: HTTPLimits(connectTimeout: min(deadline, .seconds(5)), readTimeout: deadline, deadline: deadline, maxBodyBytes: maxBodyBytes))
}

/// Runs `body` against a simulated gateway and shuts the gateway down afterwards, also when
/// `body` throws.
func withGateway<T>(
    _ profile: SimulatedGateway.Profile,
    ssdp: Bool = false,
    _ body: (SimulatedGateway) async throws -> T
) async throws -> T {
    let gateway = try await SimulatedGateway.start(profile: profile, ssdp: ssdp)
    do {
        let result = try await body(gateway)
        await gateway.shutdown()
        return result
    } catch {
        await gateway.shutdown()
        throw error
    }
}

/// Runs `body` against a fake HTTP server answering with `handler`, then shuts it down.
func withServer<T>(
    _ handler: @escaping @Sendable (FakeHTTPRequest) async -> FakeHTTPReply,
    _ body: (FakeHTTPServer) async throws -> T
) async throws -> T {
    let server = try await FakeHTTPServer.start(handler: handler)
    do {
        let result = try await body(server)
        await server.shutdown()
        return result
    } catch {
        await server.shutdown()
        throw error
    }
}

/// Runs `body` against a fake SSDP responder answering with `handler`, then shuts it down.
func withResponder<T>(
    group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
    _ handler: @escaping @Sendable (FakeSSDPSearch) -> [FakeSSDPDatagram],
    _ body: (FakeSSDPResponder) async throws -> T
) async throws -> T {
    let responder = try await FakeSSDPResponder.start(group: group, handler: handler)
    do {
        let result = try await body(responder)
        await responder.shutdown()
        return result
    } catch {
        await responder.shutdown()
        throw error
    }
}

/// How long `body` took, and what it returned or threw.
func timed<T>(_ body: () async throws -> T) async -> (result: Result<T, any Error>, elapsed: Duration) {
    let clock = ContinuousClock()
    let start = clock.now
    let result: Result<T, any Error>
    do { result = .success(try await body()) } catch { result = .failure(error) }
    return (result, clock.now - start)
}

extension Result {
    /// The error, when this is a failure.
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}

/// The URL of `path` on a fake server.
func url(_ server: FakeHTTPServer, _ path: String) throws -> GatewayURL {
    try GatewayURL(parsing: server.baseURL + path)
}

/// The description URL of a simulated gateway.
func descriptionURL(_ gateway: SimulatedGateway) throws -> GatewayURL {
    try GatewayURL(parsing: gateway.descriptionURL)
}

/// A mapping entry for a LAN client, as a test adds it.
func entry(_ port: UInt16, _ proto: TransportProtocol = .tcp, client: String = "192.168.1.10", description: String = "test") -> PortMappingEntry {
    PortMappingEntry(externalPort: port, protocol: proto, internalPort: port, internalClient: client, description: description)
}

/// A simulated gateway's mapping, as the table holds it.
func mapping(_ port: UInt16, _ proto: String = "TCP", client: String = "192.168.1.20", description: String = "") -> SimulatedGateway.Mapping {
    SimulatedGateway.Mapping(externalPort: port, protocol: proto, internalPort: port, internalClient: client, description: description)
}

/// Discovery options aimed at a responder on loopback.
/// The default window is long because a search returns shortly after the first answer: only a
/// test where nobody answers waits it out, and those pass their own.
func loopbackOptions(port: Int, window: Duration = .seconds(10)) -> DiscoveryOptions {
    var options = DiscoveryOptions()
    options.localInterfaces = [SearchInterface(name: "lo", address: IPv4Address(127, 0, 0, 1))]
    options.targetHost = "127.0.0.1"
    options.targetPort = port
    options.window = window
    return options
}

/// Every test of this target. They run in parallel: a test that needs something to happen
/// within a window gives it seconds, not milliseconds, and a test of how long the client waits
/// checks only that it waited at least that long (and an upper bound no busy machine reaches).
@Suite("IGDClient against the fakes")
enum AgainstFakes {}
