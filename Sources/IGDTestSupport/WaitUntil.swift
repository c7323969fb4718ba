/// Polls `condition` every few milliseconds until it holds; throws ``WaitTimedOut`` after
/// `timeout` (generous: a deadline for a condition, never a measure of speed).
public func waitUntil(_ what: String, timeout: Duration = .seconds(30), _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        guard ContinuousClock.now < deadline else { throw WaitTimedOut(what: what, timeout: timeout) }
        try await Task.sleep(for: .milliseconds(5))
    }
}

/// A condition ``waitUntil(_:timeout:_:)`` waited for in vain.
public struct WaitTimedOut: Error, CustomStringConvertible {
    public var what: String
    public var timeout: Duration
    public var description: String { "waited \(timeout) in vain for: \(what)" }
}
