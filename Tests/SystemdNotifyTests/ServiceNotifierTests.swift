#if os(Linux)
import Foundation
import Glibc
import Testing
@testable import SystemdNotify

/// A datagram socket standing in for systemd's notify socket.
final class FakeServiceManager {
    let fd: Int32
    let address: String

    /// Binds a socket at a new path in the temporary directory, or at a new abstract name.
    init(abstract: Bool = false) throws {
        let name = abstract
            ? "@portkeeper-test-\(UUID().uuidString)"
            : FileManager.default.temporaryDirectory.appendingPathComponent("notify-\(UUID().uuidString.prefix(8))").path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        address = name
        guard fd >= 0, let (storage, length) = ServiceNotifier.address(name) else { throw POSIXError(.EINVAL) }
        var addr = storage
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EINVAL) }
        // Never block a test: a datagram that did not come is an empty answer.
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit {
        close(fd)
        if !address.hasPrefix("@") { unlink(address) }
    }

    /// The next datagram's text, or nil after the timeout.
    func receive() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(fd, &buffer, buffer.count, 0)
        return count < 0 ? nil : String(decoding: buffer[0..<count], as: UTF8.self)
    }
}

@Suite("sd_notify: the service manager hears how watch is doing")
struct ServiceNotifierTests {
    @Test("READY, STATUS, WATCHDOG and STOPPING arrive as systemd reads them, on a path socket")
    func pathSocket() throws {
        let manager = try FakeServiceManager()
        let notifier = ServiceNotifier(environment: ["NOTIFY_SOCKET": manager.address])
        notifier.ready(status: "watching 3 mappings")
        #expect(manager.receive() == "READY=1\nSTATUS=watching 3 mappings")
        notifier.watchdog()
        #expect(manager.receive() == "WATCHDOG=1")
        notifier.status("restored 8080/tcp\nafter a reboot")
        #expect(manager.receive() == "STATUS=restored 8080/tcp after a reboot")
        notifier.stopping(status: "stopping on SIGTERM")
        #expect(manager.receive() == "STOPPING=1\nSTATUS=stopping on SIGTERM")
    }

    @Test("an abstract socket (@name) is reached too")
    func abstractSocket() throws {
        let manager = try FakeServiceManager(abstract: true)
        let notifier = ServiceNotifier(environment: ["NOTIFY_SOCKET": manager.address])
        #expect(notifier.send(["READY=1"]))
        #expect(manager.receive() == "READY=1")
    }

    @Test("outside systemd nothing is sent and no watchdog is kept")
    func inactive() {
        let notifier = ServiceNotifier(environment: ["WATCHDOG_USEC": "1000000"])
        #expect(!notifier.isActive)
        #expect(notifier.watchdogInterval == nil)
        #expect(!notifier.send(["READY=1"]))
    }

    @Test("a socket that is gone or a relative path is ignored, not an error")
    func unusableSocket() {
        #expect(!ServiceNotifier(environment: ["NOTIFY_SOCKET": "/nonexistent/notify"]).send(["READY=1"]))
        #expect(!ServiceNotifier(environment: ["NOTIFY_SOCKET": "relative/notify"]).send(["READY=1"]))
        #expect(!ServiceNotifier(environment: ["NOTIFY_SOCKET": "/" + String(repeating: "x", count: 200)]).send(["READY=1"]))
    }

    @Test("the watchdog interval is WATCHDOG_USEC when WATCHDOG_PID is ours or absent")
    func watchdogInterval() {
        let socket = ["NOTIFY_SOCKET": "/run/systemd/notify"]
        #expect(ServiceNotifier(environment: socket.merging(["WATCHDOG_USEC": "30000000"]) { $1 }, pid: 42).watchdogInterval == .seconds(30))
        #expect(ServiceNotifier(environment: socket.merging(["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "42"]) { $1 }, pid: 42).watchdogInterval == .seconds(30))
        #expect(ServiceNotifier(environment: socket.merging(["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "43"]) { $1 }, pid: 42).watchdogInterval == nil)
        #expect(ServiceNotifier(environment: socket.merging(["WATCHDOG_USEC": "soon"]) { $1 }, pid: 42).watchdogInterval == nil)
        #expect(ServiceNotifier(environment: socket.merging(["WATCHDOG_USEC": "0"]) { $1 }, pid: 42).watchdogInterval == nil)
    }
}
#endif
