import IGDProtocol
import IGDTestSupport
import PCPProtocol
import Testing

@testable import IGDClient

/// A schedule that never retransmits before a generous wait: tests about answers do not depend
/// on how busy the machine is.
private let patient = RetransmissionSchedule.listed([.seconds(60)])

/// The deadline of tests that expect an answer: far longer than any loopback exchange needs.
private func roomy() -> Deadline { Deadline("test exchange", in: .seconds(30)) }

private let nonce = PCP.Nonce(hex: "0123456789abcdef01234567")!
private let otherNonce = PCP.Nonce(hex: "fedcba9876543210fedcba98")!

/// Runs `body` with a client pointed at a fake server running `script`, then shuts the fake down.
private func withFake<T>(
    natPMP: RetransmissionSchedule = patient, pcp: RetransmissionSchedule = patient,
    _ script: @escaping @Sendable (FakePCPRequest) -> [FakePCPReply],
    _ body: (PortControlClient, FakePCPServer) async throws -> T
) async throws -> T {
    let server = try await FakePCPServer.start(script: script)
    let client = PortControlClient(serverPort: server.port, natPMPSchedule: natPMP, pcpSchedule: pcp)
    do {
        let result = try await body(client, server)
        await server.shutdown()
        return result
    } catch {
        await server.shutdown()
        throw error
    }
}

private func pcpResponse(_ reply: PortControlReply<PCP.Answer>) throws -> PCP.Response {
    guard case .pcp(let response) = reply.answer else {
        Issue.record("expected a PCP answer, got \(reply.answer)")
        throw PCPViolation("not a PCP answer")
    }
    return response
}

@Suite("NAT-PMP/PCP client against a fake server")
struct PortControlClientTests {
    @Test("the NAT-PMP external-address request returns the gateway's address and epoch from one request")
    func natPMPExternalAddress() async throws {
        var gateway = FakePCPGateway()
        gateway.epoch = 4242
        try await withFake(gateway.script()) { client, server in
            let reply = try await client.natPMPExternalAddress(gateway: server.address, deadline: roomy())
            #expect(reply.answer == .init(result: .success, secondsSinceStartOfEpoch: 4242, externalAddress: gateway.externalAddress))
            #expect(reply.requestsSent == 1)
            #expect(reply.ignored == 0)
            #expect(reply.clientAddress == IPv4Address(127, 0, 0, 1))
            #expect(server.requests.map(\.bytes) == [[0, 0]])
        }
    }

    @Test("a NAT-PMP mapping granted for less than asked and on another external port is returned as granted")
    func natPMPShorterLifetimeOtherPort() async throws {
        var gateway = FakePCPGateway()
        gateway.maximumLifetime = 60
        gateway.assignedPort = 40001
        try await withFake(gateway.script()) { client, server in
            let request = NATPMP.MapRequest(protocol: .tcp, internalPort: 9191, suggestedExternalPort: 9191, lifetime: 3600)
            let reply = try await client.natPMPMap(request, gateway: server.address, deadline: roomy())
            #expect(reply.answer.result == .success)
            #expect(reply.answer.mapping == .init(internalPort: 9191, externalPort: 40001, lifetime: 60))
            #expect(server.requests.map(\.bytes) == [request.encoded()])
        }
    }

    @Test("a NAT-PMP refusal (out of resources) is an answer carrying the result, not an error")
    func natPMPOutOfResources() async throws {
        var gateway = FakePCPGateway()
        gateway.natPMPResult = .outOfResources
        try await withFake(gateway.script()) { client, server in
            let reply = try await client.natPMPMap(.init(protocol: .udp, internalPort: 5000, suggestedExternalPort: 0, lifetime: 600), gateway: server.address, deadline: roomy())
            #expect(reply.answer.result == .outOfResources)
            #expect(reply.answer.protocol == .udp)
        }
    }

    @Test("a PCP MAP sends the nonce and the socket's own address as client address, and returns a shorter lifetime and another port as granted")
    func pcpShorterLifetimeOtherPort() async throws {
        var gateway = FakePCPGateway()
        gateway.maximumLifetime = 120
        gateway.assignedPort = 40002
        try await withFake(gateway.script()) { client, server in
            let reply = try await client.pcpMap(nonce: nonce, protocol: .tcp, internalPort: 9191, suggestedExternalPort: 9191, lifetime: 3600, gateway: server.address, deadline: roomy())
            let response = try pcpResponse(reply)
            #expect(response.result == .success)
            #expect(response.lifetime == 120)
            #expect(response.epochTime == gateway.epoch)
            #expect(response.map == PCP.MapFields(nonce: nonce, protocol: .tcp, internalPort: 9191, assignedExternalPort: 40002, assignedExternalAddress: gateway.externalAddress))
            let sent = try #require(server.requests.first?.pcpMap)
            #expect(sent.nonce == nonce)
            #expect(sent.lifetime == 3600)
            #expect(sent.suggestedExternalPort == 9191)
            #expect(sent.clientAddress == PCP.mappedAddressBytes(IPv4Address(127, 0, 0, 1)))
            #expect(reply.clientAddress == IPv4Address(127, 0, 0, 1))
        }
    }

    @Test("a PCP NO_RESOURCES is an answer carrying the result and the lifetime of the error")
    func pcpNoResources() async throws {
        var gateway = FakePCPGateway()
        gateway.pcpResult = .noResources
        try await withFake(gateway.script()) { client, server in
            let response = try pcpResponse(try await client.pcpMap(nonce: nonce, protocol: .udp, internalPort: 5000, lifetime: 600, gateway: server.address, deadline: roomy()))
            #expect(response.result == .noResources)
            #expect(response.lifetime == 30)
        }
    }

    @Test("a NAT-PMP-only server's version-0 UNSUPP_VERSION to a PCP MAP or ANNOUNCE is the typed outcome to fall back on")
    func pcpToNATPMPOnlyServer() async throws {
        var gateway = FakePCPGateway()
        gateway.speaksPCP = false
        gateway.epoch = 77
        try await withFake(gateway.script()) { client, server in
            let map = try await client.pcpMap(nonce: nonce, protocol: .tcp, internalPort: 9191, lifetime: 3600, gateway: server.address, deadline: roomy())
            #expect(map.answer == .natPMPUnsupportedVersion(secondsSinceStartOfEpoch: 77))
            let announce = try await client.pcpAnnounce(gateway: server.address, deadline: roomy())
            #expect(announce.answer == .natPMPUnsupportedVersion(secondsSinceStartOfEpoch: 77))
        }
    }

    @Test("a PCP ANNOUNCE returns the server's epoch")
    func pcpAnnounce() async throws {
        var gateway = FakePCPGateway()
        gateway.epoch = 31337
        try await withFake(gateway.script()) { client, server in
            let response = try pcpResponse(try await client.pcpAnnounce(gateway: server.address, deadline: roomy()))
            #expect(response.opcode == .announce)
            #expect(response.epochTime == 31337)
            #expect(server.requests.first?.pcpClientAddress == PCP.mappedAddressBytes(IPv4Address(127, 0, 0, 1)))
        }
    }

    @Test("an answer with another mapping's nonce is ignored and the right answer that follows is taken")
    func wrongNonceThenRight() async throws {
        let gateway = FakePCPGateway()
        try await withFake({ request in
            [FakePCPReply(gateway.answer(request, nonce: otherNonce)!), FakePCPReply(gateway.answer(request)!)]
        }) { client, server in
            let reply = try await client.pcpMap(nonce: nonce, protocol: .tcp, internalPort: 9191, lifetime: 3600, gateway: server.address, deadline: roomy())
            #expect(try pcpResponse(reply).map?.nonce == nonce)
            #expect(reply.ignored == 1)
            #expect(reply.requestsSent == 1)
        }
    }

    @Test("truncated, oversized and other requests' answers are ignored and the right answer that follows is taken")
    func garbageThenRight() async throws {
        let gateway = FakePCPGateway()
        try await withFake({ request in
            guard let right = gateway.answer(request) else { return [] }
            let otherPort = NATPMP.MapResponse(protocol: .tcp, result: .success, secondsSinceStartOfEpoch: 1, mapping: .init(internalPort: 1234, externalPort: 1234, lifetime: 60)).encoded()
            let udp = NATPMP.MapResponse(protocol: .udp, result: .success, secondsSinceStartOfEpoch: 1, mapping: .init(internalPort: 9191, externalPort: 9191, lifetime: 60)).encoded()
            let address = NATPMP.ExternalAddressResponse(result: .success, secondsSinceStartOfEpoch: 1, externalAddress: IPv4Address(1, 2, 3, 4)).encoded()
            return [
                FakePCPReply(Array(right.prefix(5))),
                FakePCPReply(right + [UInt8](repeating: 0, count: 1200)),
                FakePCPReply(otherPort), FakePCPReply(udp), FakePCPReply(address),
                FakePCPReply(request.bytes),  // the request echoed: no response bit
                FakePCPReply(right),
            ]
        }) { client, server in
            let request = NATPMP.MapRequest(protocol: .tcp, internalPort: 9191, suggestedExternalPort: 9191, lifetime: 600)
            let reply = try await client.natPMPMap(request, gateway: server.address, deadline: roomy())
            #expect(reply.answer.mapping == .init(internalPort: 9191, externalPort: 9191, lifetime: 600))
            #expect(reply.ignored == 6)
        }
    }

    @Test("answers from another port or another address of the host are not taken; the gateway's own answer is")
    func otherSourcesThenRight() async throws {
        let gateway = FakePCPGateway()
        var impostor = FakePCPGateway()
        impostor.assignedPort = 6666
        try await withFake({ [impostor] request in
            [
                FakePCPReply(impostor.answer(request)!, from: .otherPort),
                FakePCPReply(impostor.answer(request)!, from: .otherAddress),
                FakePCPReply(gateway.answer(request)!),
            ]
        }) { client, server in
            let reply = try await client.pcpMap(nonce: nonce, protocol: .tcp, internalPort: 9191, suggestedExternalPort: 9191, lifetime: 3600, gateway: server.address, deadline: roomy())
            #expect(try pcpResponse(reply).map?.assignedExternalPort == 9191)
        }
    }

    @Test("answers only from another port or address leave the request unanswered until the caller's deadline, which the error names")
    func onlyOtherSources() async throws {
        let impostor = FakePCPGateway()
        try await withFake({ request in
            [FakePCPReply(impostor.answer(request)!, from: .otherPort), FakePCPReply(impostor.answer(request)!, from: .otherAddress)]
        }) { client, server in
            await #expect(throws: DeadlineExceeded.self) {
                try await client.natPMPExternalAddress(gateway: server.address, deadline: Deadline("probe", in: .milliseconds(300)))
            }
            do {
                _ = try await client.pcpAnnounce(gateway: server.address, deadline: Deadline("probe", in: .milliseconds(300)))
                Issue.record("an answer from another source was taken")
            } catch let error as DeadlineExceeded {
                #expect(error.what == "probe")
                #expect(error.description.contains("PCP ANNOUNCE"), "\(error)")
            }
            try await waitUntil("the fake heard both requests") { server.requests.count == 2 }
        }
    }

    @Test("a server that never answers gets exactly the schedule's sends, then a timeout naming the count")
    func noAnswerScheduleRunsOut() async throws {
        let schedule = RetransmissionSchedule.listed([.milliseconds(10), .milliseconds(20), .milliseconds(40), .milliseconds(80)])
        try await withFake(natPMP: schedule, { _ in [] }) { client, server in
            do {
                _ = try await client.natPMPExternalAddress(gateway: server.address, deadline: roomy())
                Issue.record("a silent server answered")
            } catch let error as TransportError {
                #expect(error.kind == .timeout)
                #expect(error.description.contains("no answer to 4 requests") || error.detail == "no answer to 4 requests", "\(error)")
            }
            try await waitUntil("the fake heard every request") { server.requests.count == 4 }
            #expect(server.requests.allSatisfy { $0.bytes == [0, 0] })
        }
    }

    @Test("a server that never answers a PCP request (no limit on sends) leaves it to the caller's deadline")
    func noAnswerDeadline() async throws {
        // Sends every 10–40 ms until the caller's deadline: many retransmissions, and only the
        // deadline ends them. The deadline counts from the call, socket set-up included, which
        // takes seconds on a machine busy with the whole suite: 10 s leaves room for both.
        let schedule = RetransmissionSchedule.doubling(initial: .milliseconds(10), maximum: .milliseconds(40))
        try await withFake(pcp: schedule, { _ in [] }) { client, server in
            do {
                _ = try await client.pcpMap(nonce: nonce, protocol: .tcp, internalPort: 9191, lifetime: 60, gateway: server.address, deadline: Deadline("renewal", in: .seconds(10)))
                Issue.record("a silent server answered")
            } catch let error as DeadlineExceeded {
                #expect(error.what == "renewal")
            }
            try await waitUntil("the fake heard a retransmission") { server.requests.count >= 2 }
            #expect(Set(server.requests.map(\.bytes)).count == 1, "every retransmission is the same request")
        }
    }

    @Test("the first requests dropped, the retransmission that gets through is answered, and the reply counts the sends")
    func dropFirstRequests() async throws {
        // Two quick retransmissions, then a wait no busy machine outlasts: exactly three sends.
        let schedule = RetransmissionSchedule.listed([.milliseconds(10), .milliseconds(10), .seconds(60)])
        try await withFake(natPMP: schedule, pcp: schedule, FakePCPGateway().script(dropFirst: 2)) { client, server in
            let reply = try await client.natPMPMap(.init(protocol: .tcp, internalPort: 9191, suggestedExternalPort: 9191, lifetime: 600), gateway: server.address, deadline: roomy())
            #expect(reply.requestsSent == 3)
            #expect(reply.answer.result == .success)
            #expect(server.requests.count == 3)
        }
        try await withFake(natPMP: schedule, pcp: schedule, FakePCPGateway().script(dropFirst: 2)) { client, server in
            let reply = try await client.pcpMap(nonce: nonce, protocol: .udp, internalPort: 5000, lifetime: 600, gateway: server.address, deadline: roomy())
            #expect(reply.requestsSent == 3)
            #expect(try pcpResponse(reply).result == .success)
            #expect(server.requests.count == 3)
        }
    }

    @Test("a deadline already past sends nothing")
    func pastDeadline() async throws {
        try await withFake(FakePCPGateway().script()) { client, server in
            await #expect(throws: DeadlineExceeded.self) {
                try await client.natPMPExternalAddress(gateway: server.address, deadline: Deadline("gone", in: .zero))
            }
            #expect(server.requests.isEmpty)
        }
    }
}

@Suite("NAT-PMP/PCP retransmission schedules")
struct RetransmissionScheduleTests {
    func waits(_ schedule: RetransmissionSchedule, count: Int) -> [Duration] {
        var random = SystemRandomNumberGenerator()
        var previous: Duration?
        return (1...count).map { send in
            let wait = schedule.wait(afterSend: send, previous: previous, using: &random)
            previous = wait
            return wait
        }
    }

    @Test("discovery's probe waits 250 ms, doubling to at most 1 s, with no limit on sends: resent at 250 ms and 750 ms, within discovery's budget")
    func discovery() {
        #expect(waits(.discovery, count: 6) == [.milliseconds(250), .milliseconds(500), .seconds(1), .seconds(1), .seconds(1), .seconds(1)])
        #expect(RetransmissionSchedule.discovery.maximumSends == nil)
    }

    @Test("NAT-PMP waits 250 ms, doubling, nine sends in all (RFC 6886 §3.1)")
    func natPMP() {
        #expect(waits(.natPMP, count: 9) == (0..<9).map { .milliseconds(250 << $0) })
        #expect(RetransmissionSchedule.natPMP.maximumSends == 9)
    }

    @Test("PCP waits 3 s ± 10 %, then twice the last ± 10 %, capped near 1024 s, with no limit on sends (RFC 6887 §8.1.1)")
    func pcp() {
        let waits = waits(.pcp, count: 14)
        #expect(RetransmissionSchedule.pcp.maximumSends == nil)
        #expect(waits[0] >= .milliseconds(2700) && waits[0] <= .milliseconds(3300))
        for (previous, next) in zip(waits, waits.dropFirst()) {
            let base = min(previous * 2, .seconds(1024))
            #expect(next >= base * 0.9 && next <= base * 1.1, "\(previous) → \(next)")
        }
        #expect(waits.allSatisfy { $0 <= .milliseconds(1_126_400) })
    }

    @Test("a listed schedule sends once per wait, in order")
    func listed() {
        let schedule = RetransmissionSchedule.listed([.milliseconds(5), .seconds(1)])
        #expect(schedule.maximumSends == 2)
        #expect(waits(schedule, count: 2) == [.milliseconds(5), .seconds(1)])
    }
}
