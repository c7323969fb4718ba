@testable import PortKeeper
import Synchronization

/// The events of a watch as they come, for a test to wait on.
final class EventLog: Sendable {
    private struct Waiter {
        var kind: String
        var count: Int
        var continuation: CheckedContinuation<WatchEvent, any Error>
    }

    private let state = Mutex<(events: [WatchEvent], waiters: [UInt64: Waiter], nextID: UInt64)>(([], [:], 0))

    var events: [WatchEvent] { state.withLock { $0.events } }
    var kinds: [String] { events.map(\.kind) }

    func record(_ event: WatchEvent) {
        let ready = state.withLock { state -> [(CheckedContinuation<WatchEvent, any Error>, WatchEvent)] in
            state.events.append(event)
            var ready: [(CheckedContinuation<WatchEvent, any Error>, WatchEvent)] = []
            for (id, waiter) in state.waiters {
                guard let found = Self.match(waiter.kind, waiter.count, in: state.events) else { continue }
                ready.append((waiter.continuation, found))
                state.waiters[id] = nil
            }
            return ready
        }
        for (continuation, event) in ready { continuation.resume(returning: event) }
    }

    /// Waits until `count` events of `kind` (a case name: "verified", "restored") have come.
    /// - Returns: the `count`th.
    /// - Throws: `CancellationError` when the test is cancelled (its time limit) first.
    @discardableResult
    func wait(for kind: String, count: Int = 1) async throws -> WatchEvent {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let found = state.withLock { state -> Result<WatchEvent, any Error>? in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if let found = Self.match(kind, count, in: state.events) { return .success(found) }
                    state.waiters[id] = Waiter(kind: kind, count: count, continuation: continuation)
                    return nil
                }
                if let found { continuation.resume(with: found) }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.continuation.resume(throwing: CancellationError())
        }
    }

    private static func match(_ kind: String, _ count: Int, in events: [WatchEvent]) -> WatchEvent? {
        let matching = events.filter { $0.kind == kind }
        return matching.count >= count ? matching[count - 1] : nil
    }
}

extension WatchEvent {
    /// The name of the case: "verified", "restored", "announcedLeaving".
    var kind: String {
        Mirror(reflecting: self).children.first?.label ?? "\(self)"
    }
}
