import Foundation
import IGDTestSupport
import Testing
import Synchronization
@testable import MappingRegistry

/// The reconcile lock, within one process and across real processes.
@Suite struct ExclusiveLockTests {
    @Test func runsTheBodyAndReleases() async throws {
        try await withTemporaryDirectory { root in
            let registry = try Registry(path: root + "/registry.sqlite")
            let value = try await registry.withExclusiveLock(waitingAtMost: .seconds(1)) { 42 }
            #expect(value == 42)
            #expect(registry.lockPath == root + "/registry.sqlite.lock")
            #expect(try mode(registry.lockPath) == 0o600)
            // Released: the pid is cleared, and taking it again is immediate.
            #expect(contents(registry.lockPath)?.isEmpty == true)
            let again = try await registry.withExclusiveLock(waitingAtMost: .zero) { "again" }
            #expect(again == "again")
        }
    }

    @Test func theHolderWritesItsPid() async throws {
        try await withTemporaryDirectory { root in
            let registry = try Registry(path: root + "/registry.sqlite")
            let text = try await registry.withExclusiveLock(waitingAtMost: .seconds(1)) {
                String(decoding: contents(registry.lockPath) ?? Data(), as: UTF8.self)
            }
            #expect(text == "\(getpid())\n")
        }
    }

    @Test func releasedWhenTheBodyThrows() async throws {
        struct Boom: Error {}
        try await withTemporaryDirectory { root in
            let registry = try Registry(path: root + "/registry.sqlite")
            await #expect(throws: Boom.self) {
                try await registry.withExclusiveLock(waitingAtMost: .seconds(1)) { () async throws -> Int in throw Boom() }
            }
            let value = try await registry.withExclusiveLock(waitingAtMost: .zero) { 1 }
            #expect(value == 1)
        }
    }

    @Test func aSecondHolderInTheSameProcessTimesOutBusy() async throws {
        try await withTemporaryDirectory { root in
            let path = root + "/registry.sqlite"
            let first = try Registry(path: path)
            let second = try Registry(path: path)
            let (taken, signalTaken) = AsyncStream.makeStream(of: Void.self)
            let (release, signalRelease) = AsyncStream.makeStream(of: Void.self)
            let holder = Task {
                try await first.withExclusiveLock(waitingAtMost: .seconds(1)) {
                    signalTaken.yield()
                    for await _ in release { break }
                    return "held"
                }
            }
            for await _ in taken { break }

            let clock = ContinuousClock()
            let start = clock.now
            let error = await #expect(throws: RegistryError.self) {
                try await second.withExclusiveLock(waitingAtMost: .milliseconds(300)) { "never" }
            }
            let waited = clock.now - start
            #expect(error?.kind == .busy)
            #expect(error?.description == "another portkeeper is reconciling this registry (pid \(getpid())); try again when it finishes")
            #expect(waited >= .milliseconds(300))
            #expect(waited < .seconds(20), "the 300 ms wait was not honoured")
            // The same Registry object conflicts with itself too: each call is one holder.
            await #expect(throws: RegistryError.self) {
                try await first.withExclusiveLock(waitingAtMost: .milliseconds(60)) { "never" }
            }

            signalRelease.yield()
            #expect(try await holder.value == "held")
            let after = try await second.withExclusiveLock(waitingAtMost: .seconds(1)) { "mine" }
            #expect(after == "mine")
        }
    }

    @Test func aWaiterGetsTheLockWhenTheHolderFinishes() async throws {
        try await withTemporaryDirectory { root in
            let registry = try Registry(path: root + "/registry.sqlite")
            let (taken, signalTaken) = AsyncStream.makeStream(of: Void.self)
            let holderDone = Mutex(false)
            let holder = Task {
                try await registry.withExclusiveLock(waitingAtMost: .seconds(1)) {
                    signalTaken.yield()
                    try await Task.sleep(for: .milliseconds(400))
                    holderDone.withLock { $0 = true }
                }
            }
            for await _ in taken { break }
            let sawHolderDone = try await registry.withExclusiveLock(waitingAtMost: .seconds(30)) { holderDone.withLock { $0 } }
            #expect(sawHolderDone, "the waiter got the lock while the holder still had it")
            try await holder.value
        }
    }

    @Test func cancellingAWaiterStopsIt() async throws {
        try await withTemporaryDirectory { root in
            let registry = try Registry(path: root + "/registry.sqlite")
            let (taken, signalTaken) = AsyncStream.makeStream(of: Void.self)
            let (release, signalRelease) = AsyncStream.makeStream(of: Void.self)
            let holder = Task {
                try await registry.withExclusiveLock(waitingAtMost: .seconds(1)) {
                    signalTaken.yield()
                    for await _ in release { break }
                }
            }
            for await _ in taken { break }
            let waiter = Task { try await registry.withExclusiveLock(waitingAtMost: .seconds(30)) {} }
            try await Task.sleep(for: .milliseconds(100))
            waiter.cancel()
            await #expect(throws: CancellationError.self) { try await waiter.value }
            signalRelease.yield()
            try await holder.value
        }
    }

    // MARK: - Across processes

    @Test func waitsForAnotherProcessThenSucceeds() async throws {
        try await withTemporaryDirectory { root in
            let registry = try Registry(path: root + "/registry.sqlite")
            let holder = try await OtherProcessHolder.start(locking: registry.lockPath, for: 120, in: root)
            defer { holder.kill() }
            // Whether the holder had been told to go when the lock was taken: not a time
            // threshold, so a busy machine cannot make the test pass or fail.
            let released = Mutex(false)
            let waiter = Task {
                try await registry.withExclusiveLock(waitingAtMost: .seconds(60)) { released.withLock { $0 } }
            }
            try await Task.sleep(for: .milliseconds(300))
            released.withLock { $0 = true }
            holder.kill()
            let tookItAfterRelease = try await waiter.value
            #expect(tookItAfterRelease, "the lock was taken while the other process held it")
        }
    }

    @Test func timesOutBusyWhileAnotherProcessHoldsIt() async throws {
        try await withTemporaryDirectory { root in
            let registry = try Registry(path: root + "/registry.sqlite")
            let holder = try await OtherProcessHolder.start(locking: registry.lockPath, for: 30, in: root)
            defer { holder.kill() }
            let clock = ContinuousClock()
            let start = clock.now
            let error = await #expect(throws: RegistryError.self) {
                try await registry.withExclusiveLock(waitingAtMost: .milliseconds(400)) { "never" }
            }
            let waited = clock.now - start
            #expect(error?.kind == .busy)
            #expect(error?.description == "another portkeeper is reconciling this registry (pid \(holder.pid)); try again when it finishes")
            #expect(waited >= .milliseconds(400))
            #expect(waited < .seconds(20), "the 400 ms wait was not honoured (the holder keeps it 30 s)")
        }
    }

    @Test func killingTheHolderFreesTheLock() async throws {
        try await withTemporaryDirectory { root in
            let registry = try Registry(path: root + "/registry.sqlite")
            let holder = try await OtherProcessHolder.start(locking: registry.lockPath, for: 60, in: root)
            defer { holder.kill() }
            await #expect(throws: RegistryError.self) {
                try await registry.withExclusiveLock(waitingAtMost: .milliseconds(100)) {}
            }
            Glibc.kill(holder.pid, SIGKILL)
            let clock = ContinuousClock()
            let start = clock.now
            let value = try await registry.withExclusiveLock(waitingAtMost: .seconds(5)) { "free" }
            #expect(value == "free")
            _ = start
        }
    }
}

/// A `sh` that takes the lock with flock(1) on a descriptor of its own, writes its pid into the
/// lock file (as portkeeper does), then becomes `sleep`: one process holding the lock, which
/// SIGKILL ends.
private struct OtherProcessHolder {
    let pid: Int32
    let run: Task<ProcessResult?, Never>

    static func start(locking lockPath: String, for seconds: Int, in directory: String) async throws -> OtherProcessHolder {
        let pidFile = directory + "/holder.pid"
        let script = #"exec 9>>"$1" && flock -x 9 && : > "$1" && echo $$ >&9 && echo $$ > "$2" && exec sleep "$3""#
        let run = Task {
            try? await ProcessRunner.run("sh", ["-c", script, "holder", lockPath, pidFile, String(seconds)], timeout: .seconds(seconds + 30))
        }
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(20)
        while clock.now < deadline {
            if let text = contents(pidFile).map({ String(decoding: $0, as: UTF8.self) }),
               let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                return OtherProcessHolder(pid: pid, run: run)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        run.cancel()
        throw HolderError()
    }

    struct HolderError: Error, CustomStringConvertible {
        var description: String { "the flock(1) holder did not take the lock within 20 s (is util-linux installed?)" }
    }

    /// Ends the holder and whatever is left of its process group.
    func kill() {
        Glibc.kill(-pid, SIGKILL)
        Glibc.kill(pid, SIGKILL)
    }
}
