/// A stateful fake UPnP Internet Gateway Device on loopback.
///
/// It serves its description, answers WANIPConnection/WANPPPConnection SOAP actions from a
/// port-mapping table it keeps, and (optionally) answers SSDP searches. Tests can inject faults,
/// replace any path's answer with a misbehaviour, and inspect the table and the calls made.
public final class SimulatedGateway: Sendable {
    /// The profile the gateway started with.
    public let profile: Profile
    private let server: FakeHTTPServer
    private let ssdp: FakeSSDPResponder?
    private let core: GatewayCore

    private init(profile: Profile, server: FakeHTTPServer, ssdp: FakeSSDPResponder?, core: GatewayCore) {
        self.profile = profile
        self.server = server
        self.ssdp = ssdp
        self.core = core
    }

    /// Starts a gateway behaving as `profile`; with `ssdp`, also a responder answering searches
    /// for it (its port is ``ssdpPort``). `host` is the loopback address its HTTP server listens
    /// on: two gateways on 127.0.0.1 and 127.0.0.2 are two routers on two LAN addresses.
    public static func start(profile: Profile, ssdp: Bool = true, host: String = "127.0.0.1") async throws -> SimulatedGateway {
        let core = GatewayCore(profile: profile)
        let server = try await FakeHTTPServer.start(host: host) { request in
            core.handle(request)
        }
        core.state.withLock { $0.baseURL = server.baseURL }
        var responder: FakeSSDPResponder?
        if ssdp {
            let answers = SSDPAnswers(profile: profile, location: server.baseURL + profile.descriptionPath)
            do {
                responder = try await FakeSSDPResponder.start { search in
                    answers.datagrams(for: search)
                }
            } catch {
                await server.shutdown()
                throw error
            }
        }
        return SimulatedGateway(profile: profile, server: server, ssdp: responder, core: core)
    }

    // MARK: Addresses

    /// "http://127.0.0.1:PORT", no trailing slash.
    public var baseURL: String { server.baseURL }

    /// The HTTP port.
    public var port: Int { server.port }

    /// Where the description is served: ``baseURL`` + the profile's descriptionPath.
    public var descriptionURL: String { baseURL + profile.descriptionPath }

    /// ``baseURL`` + `path`, e.g. `url("/UD/?6")`.
    public func url(_ path: String) -> String { baseURL + path }

    /// The SSDP responder's UDP port, when one was started.
    public var ssdpPort: Int? { ssdp?.port }

    // MARK: Inspection

    /// Every HTTP request received so far, in order.
    public var requests: [FakeHTTPRequest] { server.requests }

    /// Every SSDP datagram received so far, in order (empty without SSDP).
    public var searches: [FakeSSDPSearch] { ssdp?.searches ?? [] }

    /// The port-mapping table as it is now.
    public var mappings: [Mapping] {
        core.state.withLock { $0.mappings }
    }

    /// How many SOAP calls of `action` arrived (faulted and injected ones included).
    public func actionCount(_ action: String) -> Int {
        core.state.withLock { $0.actionCounts[action] ?? 0 }
    }

    /// The number of SOAP calls per action so far.
    public var actionCounts: [String: Int] {
        core.state.withLock { $0.actionCounts }
    }

    /// The state of the connection at control path `path`, if it is one.
    public func connectionState(at path: String) -> ConnectionState? {
        core.state.withLock { $0.connections[path] }
    }

    // MARK: Changing behaviour

    /// Makes the next `times` calls of `action` answer UPnP fault `code` (after any earlier
    /// injections for that action are used up).
    public func injectFault(action: String, code: Int, times: Int = 1) {
        injectReply(action: action, reply: FakeSOAP.fault(code: code), times: times)
    }

    /// Makes the next `times` calls of `action` answer `reply` instead of being performed.
    public func injectReply(action: String, reply: FakeHTTPReply, times: Int = 1) {
        guard times > 0 else { return }
        core.state.withLock { state in
            state.injectedReplies[action, default: []] += Array(repeating: reply, count: times)
        }
    }

    /// Makes `path` (an exact request target like "/UD/?6", or a path without query) answer
    /// `reply` from now on; nil restores the normal behaviour.
    public func override(path: String, reply: FakeHTTPReply?) {
        core.state.withLock { $0.overrides[path] = reply }
    }

    /// Replaces the port-mapping table, e.g. `setMappings([])` for a router that rebooted.
    public func setMappings(_ mappings: [Mapping]) {
        core.state.withLock { $0.mappings = mappings }
    }

    /// Changes the state of the connection at control path `path` (adding it if new).
    public func setConnectionState(_ connection: ConnectionState, at path: String) {
        core.state.withLock { $0.connections[path] = connection }
    }

    /// Stops the HTTP server (closing every connection) and the SSDP responder.
    public func shutdown() async {
        await server.shutdown()
        await ssdp?.shutdown()
    }
}

/// Which SSDP searches a simulated gateway answers, and how.
struct SSDPAnswers: Sendable {
    /// The search targets answered (besides "ssdp:all"), in the order "ssdp:all" answers them.
    let targets: [String]
    let udn: String
    let location: String

    init(profile: SimulatedGateway.Profile, location: String) {
        var targets = ["upnp:rootdevice"]
        for type in profile.deviceTypes + [profile.serviceType] where !targets.contains(type) {
            targets.append(type)
        }
        self.targets = targets
        self.udn = profile.udn
        self.location = location
    }

    /// The replies to `search`: one per matching target for an M-SEARCH, none otherwise.
    func datagrams(for search: FakeSSDPSearch) -> [FakeSSDPDatagram] {
        guard search.method.uppercased() == "M-SEARCH", let st = search.searchTarget else { return [] }
        let answered: [String]
        if st == "ssdp:all" {
            answered = targets
        } else if targets.contains(st) || st == udn {
            answered = [st]
        } else {
            answered = []
        }
        return answered.map { target in
            FakeSSDPDatagram.searchResponse(st: target, usn: target == udn ? udn : "\(udn)::\(target)", location: location)
        }
    }
}
