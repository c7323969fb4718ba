#if os(Linux)
import Foundation
import Glibc

/// A datagram socket standing in for systemd's notify socket (`$NOTIFY_SOCKET`): collects every
/// notification a process under test sends, for tests of `Type=notify` behaviour.
public final class FakeNotifySocket: @unchecked Sendable {
    /// The socket's path, to put in `NOTIFY_SOCKET`.
    public let path: String
    private let fd: Int32
    private let received = LockedBox<[String]>([])
    private let closed = LockedBox(false)

    /// Binds a new socket in the temporary directory and starts collecting on a thread of its own.
    public init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("notify-\(UUID().uuidString.prefix(12))").path
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        self.fd = fd
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { Glibc.close(fd); throw POSIXError(.ENAMETOOLONG) }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { Glibc.close(fd); throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EINVAL) }
        // Wake up now and then to notice close().
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let received = self.received, closed = self.closed
        Thread.detachNewThread {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while !closed.snapshot {
                let count = recv(fd, &buffer, buffer.count, 0)
                if count > 0 { received.withLock { $0.append(String(decoding: buffer[0..<count], as: UTF8.self)) } }
            }
            Glibc.close(fd)
        }
    }

    /// Every datagram received so far, in order.
    public var messages: [String] { received.snapshot }

    /// Stops collecting and removes the socket file.
    public func close() {
        closed.withLock { $0 = true }
        unlink(path)
    }

    deinit { close() }
}
#endif
