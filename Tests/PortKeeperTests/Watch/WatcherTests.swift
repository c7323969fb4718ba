import Foundation
import IGDClient
import IGDProtocol
import IGDTestSupport
import MappingRegistry
@testable import PortKeeper
import Synchronization
import Testing

/// The watch loop in process, against the fake seed router on loopback, on a manual clock: the
/// clock moves only when a test moves it, so what happens without a move can only come from an
/// announcement. A test that waits for something that never comes fails at the time limit.
@Suite("Watcher", .timeLimit(.minutes(1)))
struct WatcherTests {
    static let seedUDN = "uuid:53563300-0101-0000-000ba233dcd7"

    @Test("the seed router comes back on another HTTP port: watch finds it again by UDN, carries on, and history records the move")
    func seedRouterMovesItsPort() async throws {
        let (registry, scratch) = try temporaryRegistry("watch")
        defer { scratch.remove() }

        // The router's SSDP side answers with wherever its description is now.
        let location = Mutex("")
        let responder = try await FakeSSDPResponder.start { search in
            guard search.method == "M-SEARCH", let st = search.searchTarget, st.contains("InternetGatewayDevice:1") else { return [] }
            return [.searchResponse(st: st, usn: "\(Self.seedUDN)::\(st)", location: location.withLock { $0 })]
        }
        // A free port for the announcements: taken, noted, given back.
        let notifyPort = try await Self.freeUDPPort()

        let before = try await SimulatedGateway.start(profile: try .seedRouter(externalIP: "60.32.1.5"), ssdp: false)
        location.withLock { $0 = before.descriptionURL }
        let keeper = Keeper(registry: registry, client: roomyClient(), discovery: Self.loopbackDiscovery(port: responder.port), command: "test")
        let (record, web) = try await Self.declareWebMapping(keeper, on: before)
        #expect(before.mappings.contains { $0.externalPort == 9090 })

        let (watcher, clock) = Self.watcher(keeper, notifyPort: notifyPort)
        let stop = StopRequest()
        let log = EventLog()
        let running = Task { [watcher] in try await watcher.run(stop: stop) { log.record($0) } }
        // Started and checked once (on IGDv1 the quick check asks for each declared mapping).
        try await log.wait(for: "verified")
        #expect(before.actionCount("GetSpecificPortMappingEntry") > 0)

        // It reboots onto another port, forgetting our mapping (its own port-80 entry stays),
        // and announces itself there.
        let after = try await SimulatedGateway.start(profile: try .seedRouter(externalIP: "60.32.1.5"), ssdp: false)
        await before.shutdown()
        location.withLock { $0 = after.descriptionURL }
        let notify = "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nCACHE-CONTROL: max-age=1800\r\nLOCATION: \(after.descriptionURL)\r\n"
            + "NT: upnp:rootdevice\r\nNTS: ssdp:alive\r\nUSN: \(Self.seedUDN)::upnp:rootdevice\r\nBOOTID.UPNP.ORG: 2\r\n\r\n"
        try await responder.send(Array(notify.utf8), to: "127.0.0.1", port: notifyPort)

        try await log.wait(for: "restored")
        stop.request()
        try await running.value
        #expect(clock.now == .at(0), "only the announcement could have brought watch to the moved gateway")
        #expect(after.mappings.contains { $0.externalPort == 9090 && $0.description == "Test" })
        #expect(log.kinds.contains("announcedMove") && log.kinds.contains("moved"))
        #expect(after.mappings.contains { $0.externalPort == 80 })
        #expect(try registry.gateway(id: record.id)?.descriptionURL?.description == after.descriptionURL)
        #expect(try registry.gateways().count == 1)
        let latest = try #require(try registry.history(limit: 1).first)
        #expect(latest.actor == .watch)
        #expect(latest.changes.contains { $0.kind == .gatewayMoved && $0.detail.contains(after.descriptionURL) })
        #expect(latest.changes.contains { $0.kind == .added && $0.key == web.key })
        await after.shutdown()
        await responder.shutdown()
    }

    /// Discovery that searches loopback only, sending to `port`.
    static func loopbackDiscovery(port: Int) -> DiscoveryOptions {
        var discovery = DiscoveryOptions()
        discovery.localInterfaces = [SearchInterface(name: "lo", address: IPv4Address(127, 0, 0, 1))]
        discovery.targetHost = "127.0.0.1"
        discovery.targetPort = port
        return discovery
    }

    /// Records `gateway`, declares 9090/tcp on it and reconciles.
    static func declareWebMapping(_ keeper: Keeper, on gateway: SimulatedGateway) async throws -> (GatewayRecord, DeclaredMapping) {
        let record = try await keeper.gateway(gateway.descriptionURL)
        let web = DeclaredMapping(key: MappingKey(protocol: .tcp, externalPort: 9090), client: .thisHost, internalPort: 9090, description: "Test")
        _ = try await keeper.reconcile(record, options: Planner.Options(), revision: try keeper.declare(web, gatewayID: record.id))
        return (record, web)
    }

    /// A free UDP port for announcements: taken, noted, given back.
    static func freeUDPPort() async throws -> Int {
        let probe = try await FakeSSDPResponder.start { _ in [] }
        let port = probe.port
        await probe.shutdown()
        return port
    }

    static func announcement(_ kind: String, location: String?, bootID: Int) -> [UInt8] {
        var text = "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nCACHE-CONTROL: max-age=1800\r\n"
        if let location { text += "LOCATION: \(location)\r\n" }
        text += "NT: upnp:rootdevice\r\nNTS: \(kind)\r\nUSN: \(seedUDN)::upnp:rootdevice\r\nBOOTID.UPNP.ORG: \(bootID)\r\n\r\n"
        return Array(text.utf8)
    }

    /// A watcher over `keeper` on a manual clock, checking every 60 s, listening for
    /// announcements on `notifyPort` of loopback.
    static func watcher(_ keeper: Keeper, notifyPort: Int) -> (Watcher, ManualClock) {
        var target = KeeperWatchTarget(keeper: keeper)
        target.notifyPort = notifyPort
        target.joinNotifyGroup = false
        var watcher = Watcher(target: target, reference: nil, interval: .seconds(60))
        let clock = ManualClock()
        watcher.clock = clock
        return (watcher, clock)
    }

    /// Polls `condition` every 50 ms until it holds or `seconds` pass.
    static func eventually(within seconds: Int, _ condition: () -> Bool) async throws -> Bool {
        for _ in 0..<(seconds * 20) {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return condition()
    }

    /// Runs `body` with a watcher on the fake seed router (one mapping declared and in place),
    /// checking every 60 s on a manual clock.
    func withWatchedSeedRouter(
        _ body: (SimulatedGateway, _ announce: ([UInt8]) async throws -> Void, ManualClock, EventLog) async throws -> Void
    ) async throws {
        let (registry, scratch) = try temporaryRegistry("watch")
        defer { scratch.remove() }
        let gateway = try await SimulatedGateway.start(profile: try .seedRouter(externalIP: "60.32.1.5"), ssdp: false)
        let sender = try await FakeSSDPResponder.start { _ in [] }
        let notifyPort = try await Self.freeUDPPort()
        // Should a check search for the router, it searches loopback only, where nobody answers.
        let keeper = Keeper(registry: registry, client: roomyClient(), discovery: Self.loopbackDiscovery(port: sender.port), command: "test")
        _ = try await Self.declareWebMapping(keeper, on: gateway)

        let (watcher, clock) = Self.watcher(keeper, notifyPort: notifyPort)
        let stop = StopRequest()
        let log = EventLog()
        let running = Task { [watcher] in try await watcher.run(stop: stop) { log.record($0) } }
        do {
            // Started and checked once (on IGDv1 the quick check asks for each declared mapping).
            try await log.wait(for: "verified")
            try await body(gateway, { try await sender.send($0, to: "127.0.0.1", port: notifyPort) }, clock, log)
        } catch {
            stop.request()
            _ = try? await running.value
            await gateway.shutdown()
            await sender.shutdown()
            throw error
        }
        stop.request()
        try await running.value
        await gateway.shutdown()
        await sender.shutdown()
    }

    // The clock never moves in the first test: a restore can only come from the announcement,
    // however busy the machine is.
    @Test("after a byebye, a router that returns while the byebye's check is still failing is noticed by its alive, even with the same BOOTID")
    func returnDuringByebyeCheck() async throws {
        try await withWatchedSeedRouter { gateway, announce, clock, log in
            // The byebye's check reaches the table read, which answers slowly and then with garbage.
            let listed = gateway.actionCount("GetGenericPortMappingEntry")
            gateway.injectReply(action: "GetGenericPortMappingEntry",
                                reply: .slow(bytes: Array("not an HTTP answer at all\r\n\r\n".utf8), chunkSize: 2, interval: .milliseconds(60)))
            try await announce(Self.announcement("ssdp:byebye", location: nil, bootID: 1))
            #expect(try await Self.eventually(within: 20) { gateway.actionCount("GetGenericPortMappingEntry") > listed })
            // While that check is still failing, the router is back without our mapping and
            // says so, with the BOOTID it had before.
            gateway.setMappings(gateway.mappings.filter { $0.externalPort != 9090 })
            try await announce(Self.announcement("ssdp:alive", location: gateway.descriptionURL, bootID: 1))
            try await log.wait(for: "restored")
            #expect(gateway.mappings.contains { $0.externalPort == 9090 })
            #expect(clock.now == .at(0), "the alive that arrived during the failing byebye check was not acted on")
        }
    }

    @Test("after a byebye with no announcement of its return, the away re-check finds the router back")
    func returnWithoutAnnouncement() async throws {
        try await withWatchedSeedRouter { gateway, announce, clock, log in
            gateway.injectFault(action: "GetGenericPortMappingEntry", code: 501, times: 3)
            gateway.setMappings(gateway.mappings.filter { $0.externalPort != 9090 })
            try await announce(Self.announcement("ssdp:byebye", location: nil, bootID: 1))
            try await log.wait(for: "away")
            // Each away re-check when it falls due: after 1 s, 2 s, then 4 s it answers again.
            var rechecks: [ManualClock.Instant] = []
            while !log.kinds.contains("restored"), rechecks.count < 5 {
                let due = try await clock.nextSleep()
                if log.kinds.contains("restored") { break }
                rechecks.append(due)
                clock.advance(to: due)
            }
            try await log.wait(for: "restored")
            #expect(rechecks == [.at(1), .at(3), .at(7)])
            #expect(gateway.mappings.contains { $0.externalPort == 9090 }, "the router's return was not noticed without an announcement")
        }
    }
}
