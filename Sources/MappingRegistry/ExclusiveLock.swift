import Foundation

extension Registry {
    /// The file whose flock(2) lock means "a reconcile is running": the database path + ".lock".
    public var lockPath: String { path + ".lock" }

    /// Runs `body` while holding the registry's reconcile lock, so that one reconcile at a time
    /// runs against this registry, across processes.
    ///
    /// The lock is flock(2) on ``lockPath`` (mode 0600), tried without blocking every 50 ms
    /// until `timeout` passed, so no thread is ever blocked waiting. The holder's pid and
    /// `activity` are written into the file ("1234\nreconcile\n") for the message others get.
    /// The lock is released when `body` returns or throws, and by the kernel if the process dies.
    ///
    /// - Parameter activity: what the holder is doing, in a word ("reconcile", "watch").
    /// - Throws: ``RegistryError`` `busy` ("another portkeeper is reconciling this registry
    ///   (pid N, reconcile); try again when it finishes") when the lock stayed taken for `timeout`; `readOnly` or
    ///   `cannotCreate` when the lock file cannot be opened; `CancellationError` when the task is
    ///   cancelled while waiting; whatever `body` throws.
    public func withExclusiveLock<T: Sendable>(
        waitingAtMost timeout: Duration,
        activity: String? = nil,
        isolation: isolated (any Actor)? = #isolation,
        _ body: () async throws -> T
    ) async throws -> T {
        let lock = try ReconcileLock(path: lockPath, activity: activity)
        defer { lock.release() }
        try await lock.acquire(waitingAtMost: timeout)
        return try await body()
    }
}

/// One open descriptor of the lock file; flock(2) locks belong to it, so two of them conflict
/// even within one process.
private final class ReconcileLock {
    private let path: String
    private let fd: Int32
    private let activity: String?
    private var held = false

    /// How often a taken lock is tried again.
    static let pollInterval: Duration = .milliseconds(50)

    init(path: String, activity: String?) throws {
        self.path = path
        // One word of printable ASCII: it is read back into a one-line message.
        self.activity = activity.map { String(decoding: $0.utf8.filter { $0 > 0x20 && $0 < 0x7f }.prefix(32), as: UTF8.self) }.flatMap { $0.isEmpty ? nil : $0 }
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let code = errno
            if code == EACCES || code == EPERM || code == EROFS { throw RegistryError.readOnly(path: path) }
            throw RegistryError.cannotCreate(path: path, reason: String(cString: strerror(code)))
        }
        // Whatever the umask: owner only. (Someone else's file is left to its owner.)
        var info = stat()
        if fstat(fd, &info) == 0, info.st_uid == geteuid(), info.st_mode & 0o7777 != 0o600 {
            fchmod(fd, 0o600)
        }
    }

    func acquire(waitingAtMost timeout: Duration) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            if flock(fd, LOCK_EX | LOCK_NB) == 0 {
                held = true
                recordHolder()
                return
            }
            let code = errno
            guard code == EWOULDBLOCK || code == EAGAIN || code == EINTR else {
                throw RegistryError.cannotCreate(path: path, reason: "cannot lock it: \(String(cString: strerror(code)))")
            }
            let now = clock.now
            guard now < deadline else {
                let holder = ReconcileLockFile.read(fd)
                throw RegistryError.reconciling(pid: holder?.pid, activity: holder?.activity)
            }
            try await Task.sleep(for: min(Self.pollInterval, now.duration(to: deadline)))
        }
    }

    /// Releases the lock (if held) and closes the file.
    func release() {
        if held {
            // Clear the pid while still holding the lock, so as not to erase the next holder's.
            ftruncate(fd, 0)
            flock(fd, LOCK_UN)
            held = false
        }
        close(fd)
    }

    private func recordHolder() {
        let text = Array("\(getpid())\n\(activity.map { $0 + "\n" } ?? "")".utf8)
        ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }
}

/// What a reconcile lock file says about its holder: "PID\n" and optionally "ACTIVITY\n".
enum ReconcileLockFile {
    /// The pid and activity written by the holder, if any (a holder that is not portkeeper may
    /// write none, or anything: what does not parse is ignored).
    static func read(_ fd: Int32) -> (pid: Int32, activity: String?)? {
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        let lines = String(decoding: buffer[..<count], as: UTF8.self).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let first = lines.first, let pid = Int32(first), pid > 0 else { return nil }
        let activity = lines.dropFirst().first.flatMap { word in
            !word.isEmpty && word.count <= 32 && word.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7f } ? word : nil
        }
        return (pid, activity)
    }

    /// The holder of the lock at `path` when another process holds it now; nil when it is free,
    /// missing, or held by this process. Never creates the file.
    static func holder(path: String) -> (pid: Int32, activity: String?)? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return nil
        }
        guard errno == EWOULDBLOCK, let holder = read(fd), holder.pid != getpid() else { return nil }
        return holder
    }
}
