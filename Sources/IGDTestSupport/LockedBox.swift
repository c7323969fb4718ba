import Foundation

/// A value guarded by a lock, safe to share between threads and tasks.
///
/// NIOConcurrencyHelpers is not a declared dependency of this target, so this small box plays
/// the part of `NIOLockedValueBox`. Every access goes through ``withLock(_:)``.
final class LockedBox<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    /// Creates a box holding `value`.
    init(_ value: Value) {
        self.value = value
    }

    /// Runs `body` with exclusive access to the value and returns what it returns.
    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }

    /// A copy of the current value.
    var snapshot: Value {
        withLock { $0 }
    }
}
