extension Duration {
    /// The duration in whole nanoseconds, for APIs that count them (NIO's TimeAmount).
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// "2 s", "0.25 s": how a duration reads in messages and logs.
    public var secondsText: String {
        let ms = nanoseconds / 1_000_000
        return ms % 1000 == 0 ? "\(ms / 1000) s" : "\(Double(ms) / 1000) s"
    }
}
