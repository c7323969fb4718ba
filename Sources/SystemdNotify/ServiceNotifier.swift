#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Tells the service manager how the service is doing: systemd's notification protocol
/// (sd_notify(3)), spoken directly rather than through libsystemd, which would be one more
/// shared library for the binary to need (the protocol is one datagram of `KEY=value` lines
/// to the UNIX socket named in `$NOTIFY_SOCKET`).
///
/// Outside systemd (no `$NOTIFY_SOCKET`) every call does nothing, so callers need not care.
/// A failed send is ignored, as sd_notify's callers usually do: the service works on, and
/// systemd's own timeouts (start, watchdog) report the problem.
public struct ServiceNotifier: Sendable {
    /// The socket's address as given: a path, or `@name` for an abstract socket. Nil outside
    /// a service manager.
    public let notifySocket: String?
    /// How often the service manager expects `WATCHDOG=1`, when it asked for it
    /// (`$WATCHDOG_USEC`, and `$WATCHDOG_PID` names this process or is absent).
    public let watchdogInterval: Duration?

    /// Reads the protocol's variables from `environment` (this process's by default); `pid`
    /// is the process compared with `$WATCHDOG_PID`.
    public init(environment: [String: String], pid: Int32 = getpid()) {
        let socket = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        self.notifySocket = socket
        var watchdog: Duration?
        if socket != nil, let text = environment["WATCHDOG_USEC"], let usec = UInt64(text), usec > 0 {
            let forUs = environment["WATCHDOG_PID"].map { Int32($0) == pid } ?? true
            if forUs { watchdog = .microseconds(Int64(clamping: usec)) }
        }
        self.watchdogInterval = watchdog
    }

    /// Whether a service manager listens.
    public var isActive: Bool { notifySocket != nil }

    /// `READY=1` with a status line: start-up is over.
    public func ready(status: String) {
        send(["READY=1", Self.status(status)])
    }

    /// `STATUS=`: one line shown by `systemctl status`.
    public func status(_ text: String) {
        send([Self.status(text)])
    }

    /// `WATCHDOG=1`: the service is alive and making progress.
    public func watchdog() {
        send(["WATCHDOG=1"])
    }

    /// `STOPPING=1` with a status line: shutting down on request.
    public func stopping(status: String) {
        send(["STOPPING=1", Self.status(status)])
    }

    /// A `STATUS=` assignment of `text` on one line.
    static func status(_ text: String) -> String {
        "STATUS=" + String(text.map { $0.isNewline ? " " : $0 })
    }

    /// Sends the assignments as one datagram. Returns whether it was sent (for tests).
    @discardableResult
    public func send(_ assignments: [String]) -> Bool {
        #if os(Linux)
        guard let notifySocket, let address = Self.address(notifySocket) else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let message = Array(assignments.joined(separator: "\n").utf8)
        var storage = address.storage
        let sent = withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                message.withUnsafeBytes { bytes in
                    sendto(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), sa, address.length)
                }
            }
        }
        return sent == message.count
        #else
        return false  // systemd is Linux's
        #endif
    }

    /// The `sockaddr_un` for a path or an abstract name (`@` becomes the leading NUL), or nil
    /// when it does not fit.
    static func address(_ socket: String) -> (storage: sockaddr_un, length: socklen_t)? {
        var bytes = Array(socket.utf8)
        guard bytes.first == UInt8(ascii: "/") || bytes.first == UInt8(ascii: "@") else { return nil }
        if bytes[0] == UInt8(ascii: "@") { bytes[0] = 0 }
        var storage = sockaddr_un()
        storage.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: storage.sun_path)
        // A path needs room for its terminating NUL; an abstract name is counted by length.
        guard bytes.count < capacity || (bytes[0] == 0 && bytes.count <= capacity) else { return nil }
        withUnsafeMutableBytes(of: &storage.sun_path) { path in
            path.copyBytes(from: bytes)
        }
        let length = MemoryLayout<sa_family_t>.size + bytes.count + (bytes[0] == 0 ? 0 : 1)
        return (storage, socklen_t(length))
    }
}
