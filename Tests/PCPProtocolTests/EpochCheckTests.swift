import Testing
@testable import PCPProtocol

@Suite("Epoch checks")
struct EpochCheckTests {
    static func sample(_ server: UInt32, _ local: Duration) -> EpochSample { EpochSample(serverSeconds: server, localTime: local) }

    /// (previous server, previous local, current server, current local, lost?)
    static let pcpCases: [(UInt32, Duration, UInt32, Duration, Bool)] = [
        (1000, .seconds(0), 1010, .seconds(10), false),            // both clocks advanced alike
        (1000, .seconds(0), 1000, .seconds(0), false),             // the same instant
        (1000, .seconds(0), 999, .seconds(1), false),              // back by one second: reordering, allowed
        (1000, .seconds(0), 998, .seconds(1), true),               // back by two: the server restarted
        (100_000, .seconds(0), 30, .seconds(100_040), true),       // a reboot: the epoch starts again
        (100, .seconds(0), 400, .seconds(100), true),              // the server ran three times as fast
        (100, .seconds(0), 150, .seconds(100), true),              // the server ran at half speed
        (0, .seconds(0), 1068, .seconds(1000), false),             // fast by 1068/1000: within a sixteenth and 2 s
        (0, .seconds(0), 1069, .seconds(1000), true),              // 1069 - 1069/16 = 1003 > 1000 + 2
        (0, .seconds(0), 939, .seconds(1000), false),              // slow: 939 + 2 = 941 ≥ 1000 - 62 = 938
        (0, .seconds(0), 935, .seconds(1000), true),               // 935 + 2 = 937 < 938
        (50, .seconds(10), 52, .milliseconds(12_900), false),      // local 2.9 s counts as 2 whole seconds
        (50, .seconds(10), 50, .seconds(5), false),                // a local clock going back counts as no time
    ]

    @Test("PCP: server time going back over a second, or drifting from ours, means lost state (RFC 6887 §8.5)", arguments: pcpCases)
    func pcp(previousServer: UInt32, previousLocal: Duration, currentServer: UInt32, currentLocal: Duration, lost: Bool) {
        let verdict = EpochCheck.pcpServerLostState(previous: Self.sample(previousServer, previousLocal), current: Self.sample(currentServer, currentLocal))
        #expect(verdict == lost)
    }

    static let natpmpCases: [(UInt32, Duration, UInt32, Duration, Bool)] = [
        (1000, .seconds(0), 1080, .seconds(80), false),            // on time
        (1000, .seconds(0), 1068, .seconds(80), false),            // exactly 7/8 of 80 s minus 2 s: still fine
        (1000, .seconds(0), 1067, .seconds(80), true),             // a second short of that
        (1000, .seconds(0), 5, .seconds(80), true),                // a reboot
        (1000, .seconds(0), 998, .seconds(0), false),              // two seconds back at once: the tolerance
        (1000, .seconds(0), 997, .seconds(0), true),               // three
        (1000, .seconds(0), 9000, .seconds(80), false),            // ahead is never a loss
        (1000, .seconds(0), 1000, .milliseconds(2_285), false),    // 7/8 of 2.285 s = 1.999 s: within 2 s
        (1000, .seconds(0), 1000, .milliseconds(2_288), true),     // 7/8 of 2.288 s = 2.002 s: over
    ]

    @Test("NAT-PMP: seconds more than 2 s behind 7/8 of our elapsed time mean lost state (RFC 6886 §3.6)", arguments: natpmpCases)
    func natpmp(previousServer: UInt32, previousLocal: Duration, currentServer: UInt32, currentLocal: Duration, lost: Bool) {
        let verdict = EpochCheck.natPMPServerLostState(previous: Self.sample(previousServer, previousLocal), current: Self.sample(currentServer, currentLocal))
        #expect(verdict == lost)
    }

    @Test("Absurd intervals cannot overflow the arithmetic")
    func extremes() {
        let start = Self.sample(0, .seconds(0))
        let end = Self.sample(UInt32.max, .seconds(Int64.max))
        #expect(EpochCheck.pcpServerLostState(previous: start, current: end))
        #expect(!EpochCheck.natPMPServerLostState(previous: start, current: Self.sample(UInt32.max, .seconds(10))))
        #expect(EpochCheck.natPMPServerLostState(previous: start, current: Self.sample(0, .seconds(Int64.max))))
    }
}
