/// A time by which a whole piece of work must be done (a command, a listing), whatever the
/// gateway sends: every request made under it is cut short to fit.
public struct Deadline: Sendable, Equatable {
    /// What must be done by then, as the error names it ("list", "reconcile").
    public var what: String
    /// How long it was given.
    public var length: Duration
    /// When it runs out, on the monotonic clock.
    public var instant: ContinuousClock.Instant

    /// A deadline for `what`, `length` after `start`.
    public init(_ what: String, in length: Duration, from start: ContinuousClock.Instant = .now) {
        self.what = what
        self.length = length
        self.instant = start.advanced(by: length)
    }

    /// Time left; zero or less once it ran out.
    public var remaining: Duration { ContinuousClock.now.duration(to: instant) }

    /// Whether it ran out.
    public var hasPassed: Bool { remaining <= .zero }

    /// The same deadline pushed back by `extra` (a reconcile given time per operation).
    public func extended(by extra: Duration) -> Deadline {
        var copy = self
        copy.length += extra
        copy.instant = instant.advanced(by: extra)
        return copy
    }

    /// The error to throw once it ran out.
    public func exceeded(during action: String? = nil) -> DeadlineExceeded {
        DeadlineExceeded(what: what, length: length, action: action)
    }
}

/// A whole piece of work did not finish in the time it was given.
public struct DeadlineExceeded: Error, Sendable, Equatable, CustomStringConvertible {
    /// What did not finish ("list", "reconcile").
    public let what: String
    /// How long it was given.
    public let length: Duration
    /// The action under way when it ran out, if any.
    public let action: String?

    /// `what` did not finish within `length`, during `action` if one was under way.
    public init(what: String, length: Duration, action: String? = nil) {
        self.what = what
        self.length = length
        self.action = action
    }

    public var description: String {
        "\(what) did not finish within \(length.secondsText)" + (action.map { " (it ran out during \($0))" } ?? "")
    }
}

extension HTTPLimits {
    /// These limits, cut short to end by `deadline`.
    func fitting(_ deadline: Deadline?) -> HTTPLimits {
        guard let deadline else { return self }
        var limits = self
        let left = max(deadline.remaining, .milliseconds(1))
        limits.deadline = min(limits.deadline, left)
        limits.connectTimeout = min(limits.connectTimeout, left)
        limits.readTimeout = min(limits.readTimeout, left)
        return limits
    }
}
