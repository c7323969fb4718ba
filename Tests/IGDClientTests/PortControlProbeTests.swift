import IGDProtocol
import IGDTestSupport
import PCPProtocol
import Synchronization
import Testing

@testable import IGDClient

/// Runs `body` with a probe pointed at a fake server running `script`, then shuts the fake down.
private func withProbe<T>(
    schedule: RetransmissionSchedule = .discovery,
    _ script: @escaping @Sendable (FakePCPRequest) -> [FakePCPReply],
    _ body: (PortControlProbe, FakePCPServer) async throws -> T
) async throws -> T {
    let server = try await FakePCPServer.start(script: script)
    let probe = PortControlProbe(client: PortControlClient(serverPort: server.port), schedule: schedule) { address in
        address == IPv4Address(127, 0, 0, 1) ? "02:00:00:00:00:01" : nil
    }
    do {
        let result = try await body(probe, server)
        await server.shutdown()
        return result
    } catch {
        await server.shutdown()
        throw error
    }
}

/// Far longer than any loopback exchange needs: tests that expect answers never meet it.
private func roomy() -> Deadline { Deadline("discover", in: .seconds(30)) }

@Suite("Discovery's NAT-PMP/PCP probe against a fake server")
struct PortControlProbeTests {
    @Test("a server speaking both answers the ANNOUNCE and the external-address request: epoch, external address, hardware address")
    func speaksBoth() async throws {
        var gateway = FakePCPGateway()
        gateway.epoch = 777
        // A patient schedule: the counts below do not depend on how busy the machine is.
        try await withProbe(schedule: .listed([.seconds(60)]), gateway.script()) { probe, server in
            let answers = Mutex(0)
            let finding = try #require(await probe.probe(server.address, deadline: roomy()) { answers.withLock { $0 += 1 } })
            #expect(finding.pcp == .init(result: .success, epoch: 777, version: 2))
            #expect(finding.natPMP == .init(result: .success, externalAddress: gateway.externalAddress, epoch: 777))
            #expect(!finding.pcpUnsupportedVersion)
            #expect(finding.speaksPCP && finding.speaksNATPMP)
            #expect(finding.server == server.address && finding.port == server.port)
            #expect(finding.hardwareAddress == "02:00:00:00:00:01")
            #expect(finding.clientAddress == IPv4Address(127, 0, 0, 1))
            #expect(answers.withLock { $0 } == 2)
            // One of each, sent at the same time: neither waited for the other's answer.
            let versions = server.requests.map(\.version)
            #expect(versions.filter { $0 == 2 }.count == 1 && versions.filter { $0 == 0 }.count == 1, "\(server.requests.map(\.bytes))")
            #expect(server.requests.contains { $0.version == 2 && $0.opcode == PCP.Opcode.announce.rawValue })
            #expect(server.requests.contains { $0.bytes == [0, 0] })
        }
    }

    @Test("a NAT-PMP-only server (version-0 UNSUPP_VERSION to the ANNOUNCE) is found as NAT-PMP only")
    func natPMPOnly() async throws {
        var gateway = FakePCPGateway()
        gateway.speaksPCP = false
        try await withProbe(gateway.script()) { probe, server in
            let finding = try #require(await probe.probe(server.address, deadline: roomy()))
            #expect(finding.pcp == nil)
            #expect(finding.pcpUnsupportedVersion)
            #expect(finding.natPMP?.externalAddress == gateway.externalAddress)
            #expect(!finding.speaksPCP && finding.speaksNATPMP)
        }
    }

    @Test("a server answering PCP only is found over PCP; the unanswered NAT-PMP request ends with its schedule")
    func pcpOnly() async throws {
        let gateway = FakePCPGateway()
        let script: @Sendable (FakePCPRequest) -> [FakePCPReply] = { request in
            request.version == PCP.version ? gateway.answer(request).map { [FakePCPReply($0)] } ?? [] : []
        }
        // Waits long enough that a busy machine still answers the ANNOUNCE before the schedule ends.
        try await withProbe(schedule: .listed([.seconds(3), .seconds(3)]), script) { probe, server in
            let finding = try #require(await probe.probe(server.address, deadline: roomy()))
            #expect(finding.pcp?.epoch == gateway.epoch)
            #expect(finding.natPMP == nil && !finding.pcpUnsupportedVersion)
            // Datagrams sent before the probe returned may reach a busy fake a little later.
            try await waitUntil("two NAT-PMP requests at the fake") { server.requests.filter { $0.bytes == [0, 0] }.count >= 2 }
            #expect(server.requests.filter { $0.bytes == [0, 0] }.count == 2, "the NAT-PMP request was sent as the schedule says, twice")
        }
    }

    @Test("with nothing answering, the probe returns nil when the deadline passes, not when the RFCs' schedules would end")
    func silentUntilDeadline() async throws {
        try await withProbe({ _ in [] }) { probe, server in
            // The discovery schedule sends until the deadline (its waits: RetransmissionScheduleTests).
            let (result, elapsed) = await timed { await probe.probe(server.address, deadline: Deadline("discover", in: .seconds(5))) }
            let finding = try result.get()
            #expect(finding == nil)
            #expect(elapsed < .seconds(25), "bounded by the deadline, not by the RFCs' schedules (PCP's has no end)")
            try await waitUntil("both requests at the fake") {
                server.requests.contains { $0.version == PCP.version } && server.requests.contains { $0.bytes == [0, 0] }
            }
        }
    }

    @Test("with nothing answering, a listed schedule ends the probe after its last wait: nil, exactly that many sends")
    func silentUntilSchedule() async throws {
        try await withProbe(schedule: .listed([.milliseconds(50), .milliseconds(50), .milliseconds(50)]), { _ in [] }) { probe, server in
            #expect(await probe.probe(server.address, deadline: roomy()) == nil)
            try await waitUntil("three of each request at the fake") {
                server.requests.filter { $0.version == PCP.version }.count >= 3 && server.requests.filter { $0.bytes == [0, 0] }.count >= 3
            }
            #expect(server.requests.filter { $0.version == PCP.version }.count == 3)
            #expect(server.requests.filter { $0.bytes == [0, 0] }.count == 3)
        }
    }

    @Test("answers from another address or port of the host are ignored: nothing found, or the server's own answer")
    func wrongSource() async throws {
        let impostor = {
            var impostor = FakePCPGateway()
            impostor.epoch = 1
            impostor.externalAddress = IPv4Address(198, 51, 100, 66)
            return impostor
        }()
        try await withProbe({ request in
            [FakePCPReply(impostor.answer(request)!, from: .otherAddress), FakePCPReply(impostor.answer(request)!, from: .otherPort)]
        }) { probe, server in
            #expect(await probe.probe(server.address, deadline: Deadline("discover", in: .milliseconds(600))) == nil)
        }
        let gateway = FakePCPGateway()
        try await withProbe({ request in
            [FakePCPReply(impostor.answer(request)!, from: .otherAddress), FakePCPReply(impostor.answer(request)!, from: .otherPort),
             FakePCPReply(gateway.answer(request)!)]
        }) { probe, server in
            let finding = try #require(await probe.probe(server.address, deadline: roomy()))
            #expect(finding.pcp?.epoch == gateway.epoch)
            #expect(finding.natPMP == .init(result: .success, externalAddress: gateway.externalAddress, epoch: gateway.epoch))
        }
    }

    @Test("cancelled after the PCP answer, the probe returns what it has at once: PCP, no NAT-PMP")
    func cancelledKeepsWhatAnswered() async throws {
        let gateway = FakePCPGateway()
        let script: @Sendable (FakePCPRequest) -> [FakePCPReply] = { request in
            request.version == PCP.version ? gateway.answer(request).map { [FakePCPReply($0)] } ?? [] : []
        }
        try await withProbe(script) { probe, server in
            let (answered, signal) = AsyncStream<Void>.makeStream()
            let task = Task { await probe.probe(server.address, deadline: roomy()) { signal.yield() } }
            for await _ in answered { break }
            task.cancel()
            let finding = try #require(await task.value)
            #expect(finding.pcp?.epoch == gateway.epoch)
            #expect(finding.natPMP == nil)
        }
    }

    @Test("a cutoff ends a search with nothing answering long before its window, whether asked before or during the search")
    func searchCutoff() async throws {
        try await withResponder({ _ in [] }) { responder in
            let early = SearchCutoff()
            early.end(after: .milliseconds(50))
            let (first, firstElapsed) = await timed { try await SSDPDiscovery().search(loopbackOptions(port: responder.port, window: .seconds(60)), cutoff: early) { _ in } }
            let firstDevices = try first.get()
            #expect(firstDevices.isEmpty)
            #expect(firstElapsed < .seconds(30))

            let during = SearchCutoff()
            let (second, secondElapsed) = await timed {
                try await withThrowingTaskGroup(of: [DiscoveredDevice].self) { group in
                    group.addTask { try await SSDPDiscovery().search(loopbackOptions(port: responder.port, window: .seconds(60)), cutoff: during) { _ in } }
                    // Once the search has sent, it is armed.
                    try await waitUntil("the first search") { !responder.searches.isEmpty }
                    during.end(after: .milliseconds(50))
                    return try await group.next() ?? []
                }
            }
            let secondDevices = try second.get()
            #expect(secondDevices.isEmpty)
            #expect(secondElapsed < .seconds(30))
        }
    }
}
