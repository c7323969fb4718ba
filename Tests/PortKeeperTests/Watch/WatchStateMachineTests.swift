import Foundation
import IGDProtocol
import MappingRegistry
import PCPProtocol
@testable import PortKeeper
import Testing

/// The watch's timing rules alone: no clock, no tasks, no gateway.
@Suite("Watch state machine")
struct WatchStateMachineTests {
    typealias Machine = WatchStateMachine<ManualClock.Instant>
    static let location = "http://192.0.2.1:5000/rootDesc.xml"

    /// SplitMix64: the same seed, the same numbers.
    struct SeededRandom: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    func machine(interval: Duration = .seconds(60), jitter: Double = 0, seed: UInt64 = 1, bootID: UInt32? = 1) -> Machine {
        Machine(policy: .init(interval: interval, jitter: jitter), random: SeededRandom(state: seed), bootID: bootID, now: .at(0))
    }

    func notify(_ kind: String, bootID: UInt32? = 1, location: String? = location) throws -> Wake {
        var text = "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"
        if let location { text += "LOCATION: \(location)\r\n" }
        if let bootID { text += "BOOTID.UPNP.ORG: \(bootID)\r\n" }
        text += "NT: upnp:rootdevice\r\nNTS: \(kind)\r\nUSN: uuid:fake::upnp:rootdevice\r\n\r\n"
        return .announcement(try #require(try SSDP.parseNotify(Array(text.utf8))))
    }

    func reason(_ decision: Machine.Decision) -> WakeReason? {
        if case .check(let reason, _) = decision { reason } else { nil }
    }

    @Test("it looks at once when it starts, then only once the deadline has passed: a timer of a deadline since moved later is ignored")
    func timerBeforeDeadlineIsIgnored() {
        var machine = machine()
        #expect(reason(machine.decide(.timer, at: .at(0), location: Self.location)) == .interval)
        machine.succeeded(nextRenewal: nil, at: .at(0))
        #expect(machine.deadline == .at(60))
        #expect(reason(machine.decide(.timer, at: .at(59.9), location: Self.location)) == nil)
        #expect(reason(machine.decide(.timer, at: .at(60), location: Self.location)) == .interval)
    }

    @Test("each kind of announcement is its own reason to look, and an alive with nothing new is not, unless the gateway is away")
    func announcementsAreReasons() throws {
        var machine = machine()
        #expect(reason(machine.decide(try notify("ssdp:alive"), at: .at(0), location: Self.location)) == nil)
        #expect(reason(machine.decide(try notify("ssdp:byebye"), at: .at(1), location: Self.location)) == .byebye)
        #expect(reason(machine.decide(try notify("ssdp:alive", bootID: 2), at: .at(2), location: Self.location)) == .restart)
        #expect(machine.bootID == 2)
        #expect(reason(machine.decide(try notify("ssdp:alive", bootID: 2, location: "http://192.0.2.1:6000/d.xml"), at: .at(3),
                                      location: Self.location)) == .move)
        _ = machine.failed(after: .move, at: .at(3))
        #expect(reason(machine.decide(try notify("ssdp:alive", bootID: 2), at: .at(5), location: Self.location)) == .returned)
    }

    @Test("the first alive learns the BOOTID when none is known; a different one later means a restart, told with both")
    func bootIDLearnedThenCompared() throws {
        var machine = machine(bootID: nil)
        #expect(reason(machine.decide(try notify("ssdp:alive", bootID: 7), at: .at(0), location: Self.location)) == nil)
        guard case .check(.restart, .announcedRestart(let now, let was)?) = machine.decide(try notify("ssdp:alive", bootID: 8), at: .at(5), location: Self.location)
        else { Issue.record("a new BOOTID is a restart"); return }
        #expect((now, was) == (8, 7))
    }

    @Test("the same news again within a second is the same burst; after a second, or with other news, it counts")
    func burstsAreOneWake() throws {
        var machine = machine()
        #expect(reason(machine.decide(try notify("ssdp:byebye"), at: .at(0), location: Self.location)) == .byebye)
        #expect(reason(machine.decide(try notify("ssdp:byebye"), at: .at(0.9), location: Self.location)) == nil)
        #expect(reason(machine.decide(try notify("ssdp:alive", bootID: 2), at: .at(0.95), location: Self.location)) == .restart)
        #expect(reason(machine.decide(try notify("ssdp:byebye", bootID: 2), at: .at(2), location: Self.location)) == .byebye)
    }

    @Test("an uptime lower than the last one read is a reboot; the first one and a higher one are not")
    func uptimeGoingDownIsReboot() {
        var machine = machine()
        #expect(machine.readUptime(500) == nil)
        #expect(machine.readUptime(560) == nil)
        guard case .rebooted(uptime: 3, was: 560)? = machine.readUptime(3) else { Issue.record("uptime 560 → 3 is a reboot"); return }
        #expect(machine.readUptime(4) == nil)
    }

    @Test("only a plain periodic look starts with the quick check")
    func quickCheckOnlyForInterval() {
        #expect(Machine.startsWithQuickCheck(.interval))
        for reason in [WakeReason.awayRecheck, .byebye, .restart, .move, .returned] { #expect(!Machine.startsWithQuickCheck(reason)) }
    }

    @Test("the next look comes after the interval ± the jitter, drawn from the injected random source")
    func jitterFromRandomSource() {
        var first = machine(jitter: 0.1, seed: 7)
        var again = machine(jitter: 0.1, seed: 7)
        let delays = (0..<1000).map { _ in first.nextDelay(renewal: nil) }
        #expect(delays.allSatisfy { $0 >= .seconds(54) && $0 <= .seconds(66) })
        #expect(delays.min()! < .seconds(55) && delays.max()! > .seconds(65), "the whole ±10 % is used")
        #expect((0..<1000).map { _ in again.nextDelay(renewal: nil) } == delays, "the same source, the same delays")
    }

    @Test("a lease due before the interval sets the next look, never sooner than a second")
    func leaseDueFirst() {
        var machine = machine()
        #expect(machine.nextDelay(renewal: .seconds(3)) == .seconds(3))
        #expect(machine.nextDelay(renewal: .zero) == .seconds(1))
        #expect(machine.nextDelay(renewal: .seconds(3600)) == .seconds(60))
    }

    @Test("errors wait the interval, then twice as long each time up to the cap; a success starts again from the interval")
    func backoff() {
        var machine = Machine(policy: .init(interval: .seconds(10), jitter: 0, maxBackoff: .seconds(60)), random: SeededRandom(state: 1),
                              bootID: 1, now: .at(0))
        let waits = (0..<6).map { _ in machine.failed(after: .interval, at: .at(0)) }
        #expect(waits == [10, 20, 40, 60, 60, 60].map { .retry(in: .seconds($0)) })
        machine.succeeded(nextRenewal: nil, at: .at(0))
        #expect(machine.failed(after: .interval, at: .at(0)) == .retry(in: .seconds(10)))
    }

    @Test("a look that fails after an announcement means away, not an error: 1 s, doubling to the interval; search by UDN only at the cap")
    func awayDoublesToInterval() {
        var machine = machine()
        #expect(!machine.rediscovers(after: .byebye))
        #expect(machine.failed(after: .byebye, at: .at(0)) == .away(recheckIn: .seconds(1), first: true))
        var waits: [Duration] = []
        var searches: [Bool] = []
        for _ in 0..<7 {
            searches.append(machine.rediscovers(after: .awayRecheck))
            guard case .away(let wait, false) = machine.failed(after: .awayRecheck, at: .at(0)) else { Issue.record(); return }
            waits.append(wait)
        }
        #expect(waits == [2, 4, 8, 16, 32, 60, 60].map { .seconds($0) })
        #expect(searches == [false, false, false, false, false, true, true])
        // A full reconcile that gets an answer ends the away state: the next failure is an error.
        machine.answered()
        #expect(machine.failed(after: .awayRecheck, at: .at(0)) == .retry(in: .seconds(60)))
        #expect(machine.failed(after: .restart, at: .at(0)) == .away(recheckIn: .seconds(1), first: true))
    }

    @Test("a reconcile's changes become events in the order the log tells them")
    func reconcileEvents() throws {
        let gateway = FakeWatchTarget(clock: ManualClock()).record
        let web = MappingKey(protocol: .tcp, externalPort: 8080)
        let game = MappingKey(protocol: .udp, externalPort: 27015)
        let result = WatchReconcile(
            gateway: gateway, revision: 12,
            changes: [Change(.gatewayMoved, nil, "A → B"), Change(.addressChanged, nil, "1.2.3.4 → 5.6.7.8"),
                      Change(.foundMissing, web, "lost"), Change(.added, web, "→"), Change(.added, game, "→"),
                      Change(.renewed, game, "lease"), Change(.failed, web, "718")],
            inSync: false, failures: [PortKeeperError("718 ConflictInMappingEntry")])
        let told = WatchEvent.events(of: result, reason: .restart)
        #expect(told.map(\.kind) == ["moved", "externalAddressChanged", "restored", "renewed", "operationFailed", "operationsFailed", "notInSync"])
        guard case .restored(2, true, true, 12) = told[2] else { Issue.record("\(told[2])"); return }

        let unreachable = WatchReconcile(gateway: gateway, changes: [Change(.failed, web, "gone")], inSync: false,
                                         unreachable: PortKeeperError("gone"), failures: [PortKeeperError("gone")])
        #expect(WatchEvent.events(of: unreachable, reason: .interval).map(\.kind) == ["operationsFailed", "notInSync"])
        #expect(WatchEvent.events(of: WatchReconcile(gateway: gateway), reason: .interval).map(\.kind) == ["verified"])
    }

    func announced(_ epoch: UInt32, via: ServerAnnouncement.Via = .pcp) -> Wake {
        .serverAnnouncement(ServerAnnouncement(via: via, epochSeconds: epoch, externalAddress: via == .natPMP ? IPv4Address(203, 0, 113, 7) : nil))
    }

    @Test("a PCP/NAT-PMP announcement is a restart, a full reconcile, told with the epoch and the protocol it came over")
    func serverAnnouncementIsRestart() {
        var machine = machine()
        guard case .check(.restart, .announcedEpoch(let seconds, let over)?) = machine.decide(announced(0), at: .at(5), location: Self.location)
        else { Issue.record("an announced epoch is a restart"); return }
        #expect((seconds, over) == (0, .pcp))
        #expect(!Machine.startsWithQuickCheck(.restart))
        var other = self.machine()
        guard case .check(.restart, .announcedEpoch(_, .natPMP)?) = other.decide(announced(2, via: .natPMP), at: .at(0), location: Self.location)
        else { Issue.record("a NAT-PMP announcement is a restart"); return }
    }

    @Test("NAT-PMP announcing another external address, its epoch unbroken, is an address change (a full look, told with the address); the same address again is nothing")
    func announcedAddressChange() {
        var machine = machine()
        func natPMP(_ epoch: UInt32, _ address: IPv4Address) -> Wake {
            .serverAnnouncement(ServerAnnouncement(via: .natPMP, epochSeconds: epoch, externalAddress: address))
        }
        let first = IPv4Address(203, 0, 113, 7), second = IPv4Address(198, 51, 100, 20)
        #expect(reason(machine.decide(natPMP(100, first), at: .at(0), location: Self.location)) == .restart)
        #expect(reason(machine.decide(natPMP(400, first), at: .at(300), location: Self.location)) == nil, "same address, epoch in step")
        guard case .check(.addressChanged, .announcedAddress(let address)?) = machine.decide(natPMP(700, second), at: .at(600), location: Self.location)
        else { Issue.record("another address is an address change"); return }
        #expect(address == "198.51.100.20")
        #expect(!Machine.startsWithQuickCheck(.addressChanged), "a full look: it reads and records the new address")
        // The rest of its burst says the same.
        #expect(reason(machine.decide(natPMP(700, second), at: .at(600.25), location: Self.location)) == nil)
        #expect(reason(machine.decide(natPMP(701, second), at: .at(601), location: Self.location)) == nil)
        // A restart announcing another address at once is told as the restart.
        #expect(reason(machine.decide(natPMP(0, first), at: .at(900), location: Self.location)) == .restart)
    }

    @Test("the server's repeats (0.25 s, 0.75 s, 1.75 s … later, the epoch counting on) and the same news over the other protocol are one restart")
    func serverRepeatsAreOneRestart() {
        var machine = machine()
        #expect(reason(machine.decide(announced(0), at: .at(10), location: Self.location)) == .restart)
        #expect(reason(machine.decide(announced(0, via: .natPMP), at: .at(10.01), location: Self.location)) == nil)
        var delay = 0.25
        var at = 10.0
        for _ in 0..<9 {
            at += delay
            #expect(reason(machine.decide(announced(UInt32(at - 10)), at: .at(at), location: Self.location)) == nil, "repeat at \(at) s")
            delay *= 2
        }
    }

    @Test("another announcement within a second whose epoch went back, or later with an epoch that did not keep up with our clock, is a new restart")
    func epochThatWentBackIsNews() {
        var machine = machine()
        #expect(reason(machine.decide(announced(500), at: .at(0), location: Self.location)) == .restart)
        #expect(reason(machine.decide(announced(0), at: .at(0.5), location: Self.location)) == .restart)
        #expect(reason(machine.decide(announced(30), at: .at(30.5), location: Self.location)) == nil)
        #expect(reason(machine.decide(announced(1), at: .at(300), location: Self.location)) == .restart)
    }

    @Test("within a second of the last one, an announcement is a repeat unless its epoch went back; after that the RFC's epoch check decides")
    func repeatWithinASecond() {
        var machine = machine()
        #expect(reason(machine.decide(announced(0), at: .at(0), location: Self.location)) == .restart)
        #expect(reason(machine.decide(announced(4), at: .at(0.9), location: Self.location)) == nil)
        // 9 s of epoch in 1.1 s of ours: the server's clock is not the one it was.
        #expect(reason(machine.decide(announced(13), at: .at(2.0), location: Self.location)) == .restart)
    }
}
