/// A server's epoch as a client saw it: the seconds the server reported and the local time the
/// answer arrived.
public struct EpochSample: Sendable, Hashable {
    /// The server's Epoch Time (PCP) or Seconds Since Start of Epoch (NAT-PMP).
    public var serverSeconds: UInt32
    /// When the answer arrived, on a monotonic clock, from any origin the samples share.
    public var localTime: Duration

    /// A sample of `serverSeconds` seen at `localTime`.
    public init(serverSeconds: UInt32, localTime: Duration) {
        self.serverSeconds = serverSeconds
        self.localTime = localTime
    }
}

/// The RFCs' tests of whether a server lost its mapping state (it restarted) between two
/// answers: pure arithmetic on two samples, no clock. A client keeps the last sample per
/// server, compares each new one with it, then keeps the new one; on `true` it re-creates
/// every mapping it holds there.
public enum EpochCheck {
    /// RFC 6887 §8.5: the server's time went back by more than one second (less is allowed
    /// for reordered packets), or the two clocks advanced too differently: with the elapsed
    /// whole seconds `client` and `server`, lost when `client + 2 < server - server/16` or
    /// `server + 2 < client - client/16` (2 s for the clocks' resolution, 1/16 for drift).
    public static func pcpServerLostState(previous: EpochSample, current: EpochSample) -> Bool {
        let before = Int64(previous.serverSeconds)
        let now = Int64(current.serverSeconds)
        if now + 1 < before { return true }
        let client = wholeSeconds(current.localTime - previous.localTime)
        let server = now - before
        return client + 2 < server - server / 16 || server + 2 < client - client / 16
    }

    /// RFC 6886 §3.6: the client expects at least the previous seconds plus 7/8 of the local
    /// time elapsed since; a server more than 2 s behind that lost its state. A server ahead
    /// of it is fine.
    public static func natPMPServerLostState(previous: EpochSample, current: EpochSample) -> Bool {
        let elapsed = milliseconds(current.localTime - previous.localTime)
        // current < previous + 7/8 elapsed - 2 s, in eighths of a millisecond to stay whole.
        let reported = Int64(current.serverSeconds) * 8000
        let expected = Int64(previous.serverSeconds) * 8000 + elapsed * 7 - 2 * 8000
        return reported < expected
    }

    /// Elapsed seconds, truncated; a local clock that went back counts as no time.
    /// Capped far beyond any real interval (2^40 s) so the arithmetic cannot overflow.
    static func wholeSeconds(_ duration: Duration) -> Int64 {
        min(max(duration.components.seconds, 0), 1 << 40)
    }

    /// Elapsed milliseconds, truncated, with the same floor and cap as `wholeSeconds`.
    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 0 }
        return min(seconds, 1 << 40) * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
