import IGDProtocol
import Testing
import PCPProtocol

@Suite("PCP and NAT-PMP announcements")
struct ServerAnnouncementTests {
    @Test("a PCP ANNOUNCE answer and a NAT-PMP address answer decode to their epoch, and encode back")
    func roundTrip() throws {
        let pcp = ServerAnnouncement(via: .pcp, epochSeconds: 7)
        #expect(try ServerAnnouncement(decoding: pcp.encoded()) == pcp)
        #expect(pcp.encoded().count == PCP.headerBytes)
        let natPMP = ServerAnnouncement(via: .natPMP, epochSeconds: 9, externalAddress: IPv4Address(203, 0, 113, 7))
        #expect(try ServerAnnouncement(decoding: natPMP.encoded()) == natPMP)
        #expect(natPMP.encoded().count == NATPMP.ExternalAddressResponse.byteCount)
    }

    @Test("version 1, an empty datagram, a request, and a NAT-PMP error answer are not announcements")
    func refused() {
        let pcp = ServerAnnouncement(via: .pcp, epochSeconds: 7).encoded()
        var version1 = pcp
        version1[0] = 1
        var request = pcp
        request[1] = 0
        let natPMPError = NATPMP.ExternalAddressResponse(result: .notAuthorized, secondsSinceStartOfEpoch: 3, externalAddress: nil).encoded()
        for bytes in [version1, [], request, natPMPError, pcp + [UInt8](repeating: 0, count: PCP.maxMessageBytes)] {
            #expect(throws: PCPViolation.self) { try ServerAnnouncement(decoding: bytes) }
        }
    }

    @Test("a repeat whose epoch advanced as our clock did is no restart; an epoch that went back is one", arguments: [ServerAnnouncement.Via.pcp, .natPMP])
    func repeats(via: ServerAnnouncement.Via) {
        let first = ServerAnnouncement(via: via, epochSeconds: 0)
        #expect(!ServerAnnouncement(via: via, epochSeconds: 0).restarted(since: first, elapsed: .milliseconds(250)))
        #expect(!ServerAnnouncement(via: via, epochSeconds: 3).restarted(since: first, elapsed: .milliseconds(3750)))
        #expect(!ServerAnnouncement(via: via, epochSeconds: 63).restarted(since: first, elapsed: .milliseconds(63750)))
        let later = ServerAnnouncement(via: via, epochSeconds: 600)
        #expect(ServerAnnouncement(via: via, epochSeconds: 0).restarted(since: later, elapsed: .seconds(30)))
        #expect(ServerAnnouncement(via: via, epochSeconds: 1).restarted(since: first, elapsed: .seconds(120)))
    }
}
