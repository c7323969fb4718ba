/// When a NAT-PMP or PCP request is sent again while no answer has come, and when the client
/// stops trying. Every exchange is also bounded by the caller's ``Deadline``, whichever comes first.
///
/// The RFCs' schedules are ``natPMP`` and ``pcp``; tests inject a ``listed(_:)`` one.
public struct RetransmissionSchedule: Sendable, Equatable {
    enum Shape: Sendable, Equatable {
        /// Wait `initial` after the first send, twice the previous wait after each later one
        /// (capped at `maximum`), each wait scaled by a random factor in 1 ± `jitter`.
        case doubling(initial: Duration, maximum: Duration, jitter: Double, sends: Int?)
        /// Wait `intervals[k]` after send k + 1; as many sends as intervals.
        case listed([Duration])
    }

    let shape: Shape

    /// RFC 6886 §3.1: the first wait 250 ms, doubling, 9 sends in all (the last wait is 64 s,
    /// about 128 s in all), no jitter.
    public static let natPMP = RetransmissionSchedule(shape: .doubling(initial: .milliseconds(250), maximum: .seconds(64), jitter: 0, sends: 9))

    /// RFC 6887 §8.1.1: IRT 3 s, each wait twice the last (MRT 1024 s), each with ±10 % of
    /// random jitter (RAND), MRC 0 (no limit on sends): only the deadline ends it.
    public static let pcp = RetransmissionSchedule(shape: .doubling(initial: .seconds(3), maximum: .seconds(1024), jitter: 0.1, sends: nil))

    /// Discovery's probe: the RFCs' first waits (3 s for PCP) would leave a dropped datagram
    /// unanswered for longer than discovery's whole budget, so send at 0, 250 ms, 750 ms,
    /// 1.75 s… (waits from 250 ms doubling to at most 1 s), until the probe's deadline.
    public static let discovery = RetransmissionSchedule(shape: .doubling(initial: .milliseconds(250), maximum: .seconds(1), jitter: 0, sends: nil))

    /// A doubling schedule: `initial`, then twice the previous wait up to `maximum`, each scaled
    /// by a random factor in 1 ± `jitter` (0...0.5); at most `sends` sends (nil: until the deadline).
    public static func doubling(initial: Duration, maximum: Duration, jitter: Double = 0, sends: Int? = nil) -> RetransmissionSchedule {
        precondition(initial > .zero && maximum >= initial && (0...0.5).contains(jitter) && (sends ?? 1) >= 1, "a doubling schedule needs positive waits, a jitter within ±50 % and at least one send")
        return RetransmissionSchedule(shape: .doubling(initial: initial, maximum: maximum, jitter: jitter, sends: sends))
    }

    /// Exactly `intervals.count` sends, the wait after send k + 1 being `intervals[k]`; after the
    /// last wait the client gives up. For tests: the counts do not depend on how busy the machine is.
    public static func listed(_ intervals: [Duration]) -> RetransmissionSchedule {
        precondition(!intervals.isEmpty && intervals.allSatisfy { $0 > .zero }, "a listed schedule needs at least one positive wait")
        return RetransmissionSchedule(shape: .listed(intervals))
    }

    /// The most requests sent, nil when only the deadline limits them.
    public var maximumSends: Int? {
        switch shape {
        case .doubling(_, _, _, let sends): sends
        case .listed(let intervals): intervals.count
        }
    }

    /// How long to wait after send number `send` (1 for the first) for an answer, given the
    /// previous wait (nil after the first send).
    func wait(afterSend send: Int, previous: Duration?, using random: inout some RandomNumberGenerator) -> Duration {
        switch shape {
        case .listed(let intervals):
            return intervals[min(send, intervals.count) - 1]
        case .doubling(let initial, let maximum, let jitter, _):
            // RFC 6887 §8.1.1: RT = (1 + RAND) * IRT, then RT = (1 + RAND) * 2 * RTprev, capped
            // at (1 + RAND) * MRT.
            let factor = jitter == 0 ? 1 : 1 + Double.random(in: -jitter...jitter, using: &random)
            let base = previous.map { min($0 * 2, maximum) } ?? initial
            return base * factor
        }
    }
}
