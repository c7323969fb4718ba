import Foundation
import IGDTestSupport
import Testing

/// The lab's NAT-PMP/PCP profiles, checked with the reference clients only (Debian's natpmpc,
/// upnpc, the nft chain, TCP from the outside host): what portkeeper's own NAT-PMP and PCP
/// clients will be tested against serves what they will expect (issue 9 §5).
/// Serialized: each test builds its own lab, one at a time.
@Suite("Lab: NAT-PMP/PCP profiles", .serialized, labEnabled, natpmpcLabEnabled)
struct LabNATPMPTests {
    @Test("on v2-pmp, a natpmpc mapping is listed by upnpc, carries TCP from outside, and its delete removes it")
    func natpmpMappingOnV2PMP() async throws {
        try await withLab(.v2PMP) { lab in
            let server = try lab.startBackground(on: .lan, ["socat", "TCP-LISTEN:9191,reuseaddr,fork", "SYSTEM:echo hello-from-lan"])
            defer { _ = server.terminate() }
            try await lab.waitUntilListening(on: .lan, tcpPort: 9191)
            #expect(try await lab.connectFromOutside(port: 9191) == nil, "nothing is mapped yet, the connection must fail")

            let address = try await lab.natpmpPublicAddress()
            #expect(address.status == 0, "\(address.output)")
            #expect(address.publicAddress == Lab.wanGateway, "\(address.output)")
            #expect(address.epoch != nil, "\(address.output)")

            let added = try await lab.natpmpMap(publicPort: 9191, privatePort: 9191, protocol: "TCP", lifetime: 3600)
            #expect(added.status == 0, "\(added.output)")
            #expect(added.mapping == .init(publicPort: 9191, protocol: "TCP", privatePort: 9191, lifetime: 3600), "\(added.output)")

            // One table, two doors: the UPnP side lists what NAT-PMP made.
            let listed = try await lab.upnpcList()
            let entry = listed.first { $0.externalPort == 9191 && $0.proto == "TCP" }
            #expect(entry?.internalClient == Lab.lanClient)
            #expect(entry?.internalPort == 9191)
            #expect(entry?.description.contains("NAT-PMP") == true, "\(listed)")
            #expect(entry.map { $0.lease > 0 && $0.lease <= 3600 } == true, "\(listed)")
            #expect(try await lab.forwards().contains(LabForward(protocol: "TCP", externalPort: 9191, internalClient: Lab.lanClient, internalPort: 9191)))

            var reply: String?
            for _ in 0..<100 where reply == nil {  // up to ~10 s: the rule may take a moment on a busy machine
                reply = try await lab.connectFromOutside(port: 9191)
                if reply == nil { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(reply?.contains("hello-from-lan") == true)

            let deleted = try await lab.natpmpMap(publicPort: 9191, privatePort: 9191, protocol: "TCP", lifetime: 0)
            #expect(deleted.status == 0, "\(deleted.output)")
            #expect(deleted.mapping?.lifetime == 0, "\(deleted.output)")
            #expect(try await lab.upnpcList().contains { $0.externalPort == 9191 } == false)
            #expect(try await lab.forwards().contains { $0.externalPort == 9191 } == false)
            #expect(try await lab.connectFromOutside(port: 9191) == nil)
        }
    }

    @Test("on v2-pmp, NAT-PMP takes over a UPnP entry for the same internal port, and upnpc deletes a NAT-PMP mapping")
    func oneTableTwoDoors() async throws {
        try await withLab(.v2PMP) { lab in
            try await lab.run(on: .lan, ["upnpc", "-u", Lab.descriptionURL, "-e", "by upnpc", "-a", Lab.lanClient, "9494", "9494", "TCP"]).check()
            #expect(try await lab.upnpcList().first { $0.externalPort == 9494 }?.description == "by upnpc")

            let taken = try await lab.natpmpMap(publicPort: 9494, privatePort: 9494, protocol: "TCP", lifetime: 600)
            #expect(taken.mapping == .init(publicPort: 9494, protocol: "TCP", privatePort: 9494, lifetime: 600), "\(taken.output)")
            let after = try await lab.upnpcList().filter { $0.externalPort == 9494 }
            #expect(after.count == 1, "\(after)")
            #expect(after.first?.description.contains("NAT-PMP") == true, "silently replaced: \(after)")
            #expect(try await lab.forwards().filter { $0.externalPort == 9494 }.count == 1)

            let udp = try await lab.natpmpMap(publicPort: 9595, privatePort: 9595, protocol: "UDP", lifetime: 600)
            #expect(udp.mapping == .init(publicPort: 9595, protocol: "UDP", privatePort: 9595, lifetime: 600), "\(udp.output)")
            #expect(try await lab.forwards().contains(LabForward(protocol: "UDP", externalPort: 9595, internalClient: Lab.lanClient, internalPort: 9595)))
            try await lab.run(on: .lan, ["upnpc", "-u", Lab.descriptionURL, "-d", "9595", "UDP"]).check()
            #expect(try await lab.upnpcList().contains { $0.externalPort == 9595 } == false)
            #expect(try await lab.forwards().contains { $0.externalPort == 9595 } == false)
            #expect(try await lab.forwards().contains { $0.externalPort == 9494 }, "the other mapping stays")
        }
    }

    @Test("on pcp-only, UPnP does not answer while natpmpc maps over UDP 5351 and the mapping carries TCP from outside")
    func pcpOnlyServesNoUPnP() async throws {
        try await withLab(.pcpOnly) { lab in
            // SSDP: no IGD answers on the LAN (upnpc searches for 2 s).
            let search = try await lab.run(on: .lan, ["upnpc", "-l"])
            #expect(search.status != 0)
            #expect((search.stdout + search.stderr).contains("No IGD UPnP Device found"), "\(search.stdout)\(search.stderr)")
            // HTTP: the description is not served.
            let description = try await lab.run(on: .lan, ["upnpc", "-u", Lab.descriptionURL, "-l"])
            #expect(description.status != 0)
            #expect(try await lab.run(on: .gateway, ["ss", "-Hltn"]).stdout.contains(":\(Lab.httpPort)") == false)
            #expect(try await lab.run(on: .gateway, ["ss", "-Hlun", "src \(Lab.lanGateway):\(Lab.pmpPort)"]).stdout.isEmpty == false)

            let server = try lab.startBackground(on: .lan, ["socat", "TCP-LISTEN:9191,reuseaddr,fork", "SYSTEM:echo hello-from-lan"])
            defer { _ = server.terminate() }
            try await lab.waitUntilListening(on: .lan, tcpPort: 9191)

            let address = try await lab.natpmpPublicAddress()
            #expect(address.publicAddress == Lab.wanGateway, "\(address.output)")
            let added = try await lab.natpmpMap(publicPort: 9191, privatePort: 9191, protocol: "TCP", lifetime: 3600)
            #expect(added.status == 0, "\(added.output)")
            #expect(added.mapping == .init(publicPort: 9191, protocol: "TCP", privatePort: 9191, lifetime: 3600), "\(added.output)")
            #expect(try await lab.forwards() == [LabForward(protocol: "TCP", externalPort: 9191, internalClient: Lab.lanClient, internalPort: 9191)])

            var reply: String?
            for _ in 0..<100 where reply == nil {  // up to ~10 s
                reply = try await lab.connectFromOutside(port: 9191)
                if reply == nil { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(reply?.contains("hello-from-lan") == true)

            let deleted = try await lab.natpmpMap(publicPort: 9191, privatePort: 9191, protocol: "TCP", lifetime: 0)
            #expect(deleted.status == 0, "\(deleted.output)")
            #expect(try await lab.forwards().isEmpty)
        }
    }

    @Test("with fast-expiry lifetimes, a mapping asked for 5 s lapses on its own while one asked for an hour stays")
    func shortLeaseLapses() async throws {
        try await withLab(.v2PMP, lifetimes: .fastExpiry) { lab in
            let short = try await lab.natpmpMap(publicPort: 9292, privatePort: 9292, protocol: "TCP", lifetime: 5)
            #expect(short.mapping == .init(publicPort: 9292, protocol: "TCP", privatePort: 9292, lifetime: 5), "\(short.output)")
            let long = try await lab.natpmpMap(publicPort: 9393, privatePort: 9393, protocol: "TCP", lifetime: 3600)
            #expect(long.status == 0, "\(long.output)")

            // Gone from the nft chain, and miniupnpd says it removed it because its lease ran out
            // (which also shows it was there). A generous deadline: the machine may be busy.
            let lapsed = try await waitFor(timeout: .seconds(90), every: .milliseconds(250)) {
                let forwards = try await lab.forwards()
                return !forwards.contains { $0.externalPort == 9292 }
                    && lab.gatewayLog.contains("remove port mapping 9292 TCP because it has expired")
            }
            #expect(lapsed != nil, "the 5 s mapping did not lapse: \(lab.gatewayLog)")
            let listed = try await lab.upnpcList()
            #expect(listed.contains { $0.externalPort == 9292 } == false)
            #expect(listed.contains { $0.externalPort == 9393 }, "\(listed)")
            #expect(try await lab.forwards().contains { $0.externalPort == 9393 })
        }
    }
}

/// natpmpc's output and the nft chain, read without a lab.
@Suite("Lab: reading natpmpc and the nft chain")
struct LabNATPMPParsingTests {
    @Test("natpmpc's output gives the address, the epoch and the mapping; anything else gives nothing")
    func parsesNATPMPC() {
        let output = """
            initnatpmp() returned 0 (SUCCESS)
            using gateway : 192.168.77.1
            sendpublicaddressrequest returned 2 (SUCCESS)
            readnatpmpresponseorretry returned 0 (OK)
            Public IP address : 11.77.0.1
            epoch = 2
            sendnewportmappingrequest returned 12 (SUCCESS)
            readnatpmpresponseorretry returned 0 (OK)
            Mapped public port 9191 protocol TCP to local port 9191 liftime 3600
            epoch = 3
            closenatpmp() returned 0 (SUCCESS)
            """
        let reply = NATPMPCReply.parse(ProcessResult(status: 0, stdout: output, stderr: ""))
        #expect(reply.publicAddress == "11.77.0.1")
        #expect(reply.epoch == 3)
        #expect(reply.mapping == .init(publicPort: 9191, protocol: "TCP", privatePort: 9191, lifetime: 3600))

        let garbage = NATPMPCReply.parse(ProcessResult(status: 1, stdout: """
            Public IP address : 11.77.0
            epoch = -1
            Mapped public port 99999 protocol TCP to local port 1 liftime 5
            Mapped public port 1 protocol SCTP to local port 1 liftime 5
            """, stderr: "readnatpmpresponseorretry() failed : the gateway does not support nat-pmp"))
        #expect(garbage.status == 1)
        #expect(garbage.publicAddress == nil)
        #expect(garbage.epoch == nil)
        #expect(garbage.mapping == nil)
        #expect(garbage.output.contains("does not support nat-pmp"))
    }

    @Test("the nft chain's rules give protocol, ports and client; other lines give nothing")
    func parsesForwards() {
        let chain = """
            table inet filter {
            \tchain prerouting_miniupnpd {
            \t\tiif "wan0" @nh,72,8 0x6 th dport 9191 dnat ip to 192.168.77.2:9191
            \t\tiif "wan0" @nh,72,8 0x11 th dport 9595 dnat ip to 192.168.77.3:9600
            \t\tiif "wan0" @nh,72,8 0x6 th dport 70000 dnat ip to 192.168.77.2:1
            \t}
            }
            """
        #expect(LabForward.parse(chain) == [
            LabForward(protocol: "TCP", externalPort: 9191, internalClient: "192.168.77.2", internalPort: 9191),
            LabForward(protocol: "UDP", externalPort: 9595, internalClient: "192.168.77.3", internalPort: 9600),
        ])
        #expect(LabForward.parse("").isEmpty)
    }
}
