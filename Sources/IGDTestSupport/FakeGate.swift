/// A gate a test opens when it is ready: a ``FakeHTTPReply/held(_:until:)`` answer waits at it,
/// so that "while the answer is on its way" lasts exactly as long as the test needs, however
/// busy the machine, instead of as long as a slow reply happens to take.
public final class FakeGate: Sendable {
    private struct State: Sendable {
        var isOpen = false
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    private let state = LockedBox(State())

    public init() {}

    /// Lets every waiter through, now and later. Opening it again does nothing.
    public func open() {
        let waiting = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.isOpen = true
            defer { state.waiting.removeAll() }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }

    /// Returns once the gate is open.
    func wait() async {
        await withCheckedContinuation { continuation in
            let isOpen = state.withLock { state -> Bool in
                if !state.isOpen { state.waiting.append(continuation) }
                return state.isOpen
            }
            if isOpen { continuation.resume() }
        }
    }
}
