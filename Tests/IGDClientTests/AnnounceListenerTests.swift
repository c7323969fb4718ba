import IGDClient
import IGDProtocol
import NIOCore
import NIOPosix
import PCPProtocol
import Testing

/// The PCP/NAT-PMP announcement listener over loopback: the "gateway" is a socket on 127.0.0.1
/// whose port stands for 5351; the listener binds a free port and joins no group.
@Suite("Listening for PCP and NAT-PMP announcements")
struct AnnounceListenerTests {
    /// A UDP socket on `host` that sends datagrams.
    struct Sender {
        let channel: any Channel

        static func bind(_ host: String) async throws -> Sender {
            Sender(channel: try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: host, port: 0).get())
        }

        var port: Int { channel.localAddress?.port ?? 0 }

        func send(_ bytes: [UInt8], to port: Int) async throws {
            let address = try SocketAddress(ipAddress: "127.0.0.1", port: port)
            try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: ByteBuffer(bytes: bytes)))
        }

        func close() async { try? await channel.close() }
    }

    static let loopback = IPv4Address(127, 0, 0, 1)

    /// Runs `body` with a listener that takes announcements from `gateway` only.
    func withListener(_ body: (AnnounceListener, _ listenerPort: Int, _ gateway: Sender) async throws -> Void) async throws {
        let gateway = try await Sender.bind("127.0.0.1")
        let listener = try await AnnounceListener.start(interfaceAddress: Self.loopback, gateway: Self.loopback, serverPort: gateway.port,
                                                        port: 0, joinGroup: false)
        let port = try #require(listener.localPort)
        do {
            try await body(listener, port, gateway)
        } catch {
            await listener.stop()
            await gateway.close()
            throw error
        }
        await listener.stop()
        await gateway.close()
    }

    /// The next announcement the listener yields.
    func next(_ listener: AnnounceListener) async -> ServerAnnouncement? {
        var iterator = listener.announcements.makeAsyncIterator()
        return await iterator.next()
    }

    @Test("a PCP ANNOUNCE and a NAT-PMP address announcement from the gateway's address and port 5351 are yielded with their epoch")
    func fromTheGateway() async throws {
        try await withListener { listener, port, gateway in
            let pcp = ServerAnnouncement(via: .pcp, epochSeconds: 0)
            try await gateway.send(pcp.encoded(), to: port)
            #expect(await next(listener) == pcp)
            let natPMP = ServerAnnouncement(via: .natPMP, epochSeconds: 2, externalAddress: IPv4Address(203, 0, 113, 7))
            try await gateway.send(natPMP.encoded(), to: port)
            #expect(await next(listener) == natPMP)
        }
    }

    @Test("an announcement from another address, or from the gateway's address but another port, is dropped")
    func fromElsewhere() async throws {
        try await withListener { listener, port, gateway in
            let otherHost = try await Sender.bind("127.0.0.2")
            let otherPort = try await Sender.bind("127.0.0.1")
            try await otherHost.send(ServerAnnouncement(via: .pcp, epochSeconds: 11).encoded(), to: port)
            try await otherPort.send(ServerAnnouncement(via: .pcp, epochSeconds: 12).encoded(), to: port)
            // Loopback delivers in order: the first thing yielded is the gateway's own, sent last.
            try await gateway.send(ServerAnnouncement(via: .pcp, epochSeconds: 13).encoded(), to: port)
            #expect(await next(listener)?.epochSeconds == 13)
            await otherHost.close()
            await otherPort.close()
        }
    }

    @Test("garbage, an oversized datagram, a MAP answer, a PCP error answer and a NAT-PMP request from the gateway are dropped")
    func notAnnouncements() async throws {
        let nonce = try #require(PCP.Nonce(bytes: Array(repeating: 7, count: 12)))
        let map = PCP.Response(opcode: .map, result: .success, lifetime: 3600, epochTime: 21,
                               map: PCP.MapFields(nonce: nonce, protocol: .tcp, internalPort: 9494, assignedExternalPort: 9494,
                                                  assignedExternalAddress: IPv4Address(203, 0, 113, 7)))
        var oversized = ServerAnnouncement(via: .pcp, epochSeconds: 22).encoded()
        oversized += [UInt8](repeating: 0, count: PCP.maxMessageBytes + 4 - oversized.count)
        let bad: [[UInt8]] = [
            Array("NOTIFY * HTTP/1.1\r\n\r\n".utf8),
            [],
            oversized,
            PCP.Answer.pcp(map).encoded(),
            PCP.Answer.pcp(PCP.Response(opcode: .announce, result: .notAuthorized, lifetime: 0, epochTime: 23)).encoded(),
            NATPMP.ExternalAddressRequest().encoded(),
            NATPMP.ExternalAddressResponse(result: .notAuthorized, secondsSinceStartOfEpoch: 24, externalAddress: nil).encoded(),
        ]
        try await withListener { listener, port, gateway in
            for datagram in bad { try await gateway.send(datagram, to: port) }
            try await gateway.send(ServerAnnouncement(via: .natPMP, epochSeconds: 25, externalAddress: IPv4Address(203, 0, 113, 7)).encoded(), to: port)
            #expect(await next(listener)?.epochSeconds == 25)
        }
    }

    @Test("stop ends the stream")
    func stops() async throws {
        try await withListener { listener, _, _ in
            await listener.stop()
            #expect(await next(listener) == nil)
        }
    }
}
