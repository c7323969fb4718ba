import Synchronization

/// A clock that moves only when a test moves it, and tells the test when someone sleeps on it.
///
/// pointfreeco/swift-clocks' `TestClock` moves time the same way, but a test cannot wait on it
/// for the code under test to fall asleep; it yields many times and hopes. Here the test awaits
/// ``nextSleep()``, which returns once a sleeper waits, so a test never guesses.
final class ManualClock: Clock, Sendable {
    struct Instant: InstantProtocol, CustomStringConvertible {
        /// Time since the clock was made.
        var offset: Duration

        func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
        var description: String { "t+\(offset)" }
    }

    private struct Sleeper {
        var id: UInt64
        var deadline: Instant
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now = Instant(offset: .zero)
        var sleepers: [Sleeper] = []
        var nextID: UInt64 = 0
        /// Tests waiting for a sleeper, by id.
        var watching: [UInt64: CheckedContinuation<Instant, any Error>] = [:]
    }

    private let state = Mutex(State())

    var now: Instant { state.withLock { $0.now } }
    var minimumResolution: Duration { .zero }

    func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let (outcome, watching) = state.withLock { state -> (Result<Void, any Error>?, [CheckedContinuation<Instant, any Error>]) in
                    if Task.isCancelled { return (.failure(CancellationError()), []) }
                    if deadline <= state.now { return (.success(()), []) }
                    state.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    defer { state.watching = [:] }
                    return (nil, Array(state.watching.values))
                }
                if let outcome { continuation.resume(with: outcome) }
                for watcher in watching { watcher.resume(returning: deadline) }
            }
        } onCancel: {
            let cancelled = state.withLock { state -> Sleeper? in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return state.sleepers.remove(at: index)
            }
            cancelled?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Waits until someone sleeps on the clock (or returns at once when someone does).
    /// - Returns: the earliest deadline slept until.
    /// - Throws: `CancellationError` when the test is cancelled (its time limit) first.
    func nextSleep() async throws -> Instant {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let earliest = state.withLock { state -> Result<Instant, any Error>? in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    guard let earliest = state.sleepers.map(\.deadline).min() else {
                        state.watching[id] = continuation
                        return nil
                    }
                    return .success(earliest)
                }
                if let earliest { continuation.resume(with: earliest) }
            }
        } onCancel: {
            state.withLock { $0.watching.removeValue(forKey: id) }?.resume(throwing: CancellationError())
        }
    }

    /// Moves the clock to `instant` (never back) and wakes whoever slept until then.
    func advance(to instant: Instant) {
        let due = state.withLock { state -> [Sleeper] in
            state.now = max(state.now, instant)
            let due = state.sleepers.filter { $0.deadline <= state.now }
            state.sleepers.removeAll { $0.deadline <= state.now }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    func advance(by duration: Duration) {
        advance(to: now.advanced(by: duration))
    }
}

extension ManualClock.Instant {
    /// `seconds` after the clock was made.
    static func at(_ seconds: Double) -> Self { Self(offset: .milliseconds(Int64(seconds * 1000))) }
}
