#if os(Linux)
import Foundation
import Glibc
import IGDTestSupport
import Testing

/// `portkeeper watch` under a service manager that speaks sd_notify (a fake notify socket).
@Suite("watch as a systemd service (Type=notify)")
struct WatchServiceTests {
    @Test("READY=1 after the first check with its status, WATCHDOG=1 at half WatchdogSec, STOPPING=1 on SIGTERM, exit 0")
    func notifiesTheServiceManager() async throws {
        try await withSeededRegistry("notify") { registry, gateway in
            let socket = try FakeNotifySocket()
            defer { socket.close() }
            let executable = try Products.path("portkeeper")
            let arguments = ["watch", "--interval", "30", "--no-announcements", "--db", registry.path]
            // WatchdogSec=0.4 s: a keep-alive every 0.2 s.
            let environment = PortKeeperCLI.environment(for: arguments, adding: ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "400000"])
            let watching = Task { try await ProcessRunner.run(executable, arguments, environment: environment, timeout: .seconds(120)) }

            try await waitUntil("READY=1 arrived") { socket.messages.contains { $0.hasPrefix("READY=1\n") } }
            let ready = try #require(socket.messages.first { $0.hasPrefix("READY=1\n") })
            #expect(ready == "READY=1\nSTATUS=verified: IGDv2 Test Gateway matches the declaration", "\(socket.messages)")
            // Nothing before READY but keep-alives and the start-up status.
            let beforeReady = socket.messages.prefix { !$0.hasPrefix("READY=1") }
            #expect(beforeReady.allSatisfy { $0 == "WATCHDOG=1" || $0.hasPrefix("STATUS=started: watching") }, "\(beforeReady)")
            let keepAlives = socket.messages.filter { $0 == "WATCHDOG=1" }.count
            try await waitUntil("two more keep-alives") { socket.messages.filter { $0 == "WATCHDOG=1" }.count >= keepAlives + 2 }

            let pids = ProcessTable.pids(executable: executable, arguments: ["watch", registry.path])
            try #require(pids.count == 1)
            kill(pids[0], SIGTERM)
            let result = try await watching.value
            #expect(result.status == 0, "\(result.stderr)")
            #expect(socket.messages.contains("STOPPING=1\nSTATUS=stopping on SIGTERM, between operations"), "\(socket.messages)")
            #expect(gateway.actionCount("AddPortMapping") == 2, "the seeded mappings only")
        }
    }

    @Test("when stderr is the journal ($JOURNAL_STREAM names it), each line starts with its syslog priority")
    func journalPriorities() async throws {
        try await withSeededRegistry("journal") { registry, gateway in
            let executable = try Products.path("portkeeper")
            // As systemd does: JOURNAL_STREAM is "device:inode" of the stream stderr is.
            let script = #"JOURNAL_STREAM=$(stat -L -c %d:%i /dev/stderr) exec "$0" watch --interval 30 --no-announcements --db "$1""#
            let looks = gateway.actionCount("GetListOfPortMappings")
            let watching = Task {
                try await ProcessRunner.run("/bin/sh", ["-c", script, executable, registry.path],
                                            environment: PortKeeperCLI.environment(for: []), timeout: .seconds(120))
            }
            try await waitUntil("watch verified the gateway") { gateway.actionCount("GetListOfPortMappings") > looks }
            try await waitUntil("watch is running") { ProcessTable.pids(executable: executable, arguments: ["watch", registry.path]).count == 1 }
            for pid in ProcessTable.pids(executable: executable, arguments: ["watch", registry.path]) { kill(pid, SIGTERM) }
            let result = try await watching.value
            #expect(result.status == 0, "\(result.stderr)")
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.contains { $0.hasPrefix("<6>portkeeper.watch: [PortKeeper] started: watching IGDv2 Test Gateway") }, "\(result.stderr)")
            #expect(lines.allSatisfy { $0.hasPrefix("<") }, "\(result.stderr)")
        }
    }

    @Test("outside systemd (no NOTIFY_SOCKET) watch sends nothing and logs as before")
    func withoutAServiceManager() async throws {
        try await withSeededRegistry("no-notify") { registry, gateway in
            let executable = try Products.path("portkeeper")
            let arguments = ["watch", "--interval", "30", "--no-announcements", "--db", registry.path]
            let looks = gateway.actionCount("GetListOfPortMappings")
            let watching = Task { try await ProcessRunner.run(executable, arguments, environment: PortKeeperCLI.environment(for: arguments), timeout: .seconds(120)) }
            // Its first check has begun: the signal handlers are in place.
            try await waitUntil("watch looked at the gateway") { gateway.actionCount("GetListOfPortMappings") > looks }
            for pid in ProcessTable.pids(executable: executable, arguments: ["watch", registry.path]) { kill(pid, SIGTERM) }
            let result = try await watching.value
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("started: watching"), "\(result.stderr)")
            #expect(!result.stderr.contains("<6>"), "journal priorities outside the journal: \(result.stderr)")
        }
    }
}
#endif
