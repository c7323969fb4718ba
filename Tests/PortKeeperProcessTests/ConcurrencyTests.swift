import Foundation
import IGDTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// §6: several portkeeper processes on one registry at once. Reconciles take turns (a file
/// lock): none adds a mapping twice, and a declaration made meanwhile is neither lost nor
/// refused with "database is locked".
@Suite("Concurrency: several portkeeper processes on one registry")
struct ConcurrencyTests {
    /// 30 keys, TCP and UDP.
    static let keys: [String] = (0..<30).map { "\(9200 + $0)/\($0 % 2 == 0 ? "tcp" : "udp")" }

    /// Declares `keys` without applying them, the first naming the gateway by URL.
    static func declare(_ keys: [String], on registry: ScratchRegistry, gateway: SimulatedGateway) async throws {
        for (index, key) in keys.enumerated() {
            let gatewayArguments = index == 0 ? ["--gateway", gateway.descriptionURL] : []
            try await registry.portkeeper(["add", key, "--no-apply"] + gatewayArguments).check()
        }
    }

    /// A correct GetExternalIPAddress answer dripped over about `duration`: the reconcile that
    /// gets it holds the lock that long before it acts (every reconcile asks for the address
    /// once, right after reading the table).
    static func slowExternalAddress(_ gateway: SimulatedGateway, over duration: Duration) {
        let body = FakeSOAP.responseBody(action: "GetExternalIPAddress", serviceType: gateway.profile.serviceType,
                                         arguments: [("NewExternalIPAddress", "203.0.113.7")])
        let head = "HTTP/1.1 200 OK\r\nContent-Type: \(FakeSOAP.contentType)\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
        let bytes = Array((head + body).utf8)
        let pieces = 20
        gateway.injectReply(action: "GetExternalIPAddress",
                            reply: .slow(bytes: bytes, chunkSize: bytes.count / pieces + 1, interval: duration / pieces), times: 1)
    }

    /// Exit 0, or exit 1 saying in one line that another portkeeper is reconciling; never
    /// "database is locked".
    static func expectDoneOrBusy(_ result: ProcessResult, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!result.stderr.lowercased().contains("locked"), "\(name): \(result.stderr)", sourceLocation: sourceLocation)
        if result.status == 0 {
            #expect(!result.stderr.contains("error"), "\(name): \(result.stderr)", sourceLocation: sourceLocation)
        } else {
            expectOneLineRefusal(result, saying: "another portkeeper is reconciling this registry", [name], status: 75, sourceLocation: sourceLocation)
        }
    }

    @Test("two reconciles started at once: both succeed (or one says busy), no mapping added twice", arguments: [false, true])
    func twoReconcilesAtOnce(firstIsSlow: Bool) async throws {
        try await withGateway { gateway in
            let registry = try ScratchRegistry("two-reconciles")
            defer { registry.remove() }
            try await Self.declare(Self.keys, on: registry, gateway: gateway)
            if firstIsSlow { Self.slowExternalAddress(gateway, over: .milliseconds(1500)) }

            async let first = registry.portkeeper(["reconcile"])
            async let second = registry.portkeeper(["reconcile"])
            let results = try await [first, second]

            for (index, result) in results.enumerated() { Self.expectDoneOrBusy(result, "reconcile \(index + 1)") }
            #expect(results.contains { $0.status == 0 }, "\(results.map(\.stderr))")
            #expect(gateway.actionCount("AddPortMapping") == Self.keys.count, "AddPortMapping sent \(gateway.actionCount("AddPortMapping")) times for \(Self.keys.count) mappings")
            #expect(gateway.actionCount("DeletePortMapping") == 0)
            #expect(gateway.mappings.count == Self.keys.count)
            #expect(Set(gateway.mappings.map { "\($0.externalPort)/\($0.protocol.lowercased())" }) == Set(Self.keys))

            // One of them did the work; the history says each mapping was added once.
            let added = try await registry.history().flatMap(\.changes).filter { $0.kind == "added" }
            #expect(added.count == Self.keys.count, "\(added.map { $0.key?.description ?? "" })")
            #expect(try await registry.integrityCheck() == "ok")
            #expect(try await registry.unresolvedOperations() == [])
            #expect(try await registry.portkeeper(["plan", "--exit-code"]).status == 0)
        }
    }

    @Test("portkeeper add while another process reconciles: no \"database is locked\", nothing lost or doubled")
    func addWhileReconciling() async throws {
        try await withGateway { gateway in
            let registry = try ScratchRegistry("add-during-reconcile")
            defer { registry.remove() }
            try await Self.declare(Self.keys, on: registry, gateway: gateway)
            // Slow, but within the gateway's 5 s request deadline.
            Self.slowExternalAddress(gateway, over: .seconds(4))

            let reconcile = Task { try await registry.portkeeper(["reconcile"]) }
            // The reconcile holds its lock and waits for the slow answer: declare meanwhile.
            try await waitUntil("the reconcile asked for the external address") { gateway.actionCount("GetExternalIPAddress") >= 1 }
            let during = try await registry.portkeeper(["add", "9300/tcp", "--description", "during", "--no-apply"])
            #expect(during.status == 0, "\(during.stderr)")
            #expect(during.stderr.isEmpty, "\(during.stderr)")
            // Declaring does not wait for the reconcile's lock: the reconcile is still waiting
            // for its slow answer, and has not sent a single AddPortMapping.
            #expect(gateway.actionCount("AddPortMapping") == 0, "add --no-apply waited for the reconcile")

            // More declarations while the reconcile sends its AddPortMapping requests, one of them
            // applying (it waits for the lock, then reconciles).
            try await waitUntil("the reconcile started adding") { gateway.actionCount("AddPortMapping") >= 1 }
            async let a = registry.portkeeper(["add", "9301/tcp", "--no-apply"])
            async let b = registry.portkeeper(["add", "9302/udp", "--to", ":9402", "--no-apply"])
            async let c = registry.portkeeper(["add", "9303/tcp", "--description", "applied"])
            let adds = try await [a, b, c]
            let reconciled = try await reconcile.value

            for (index, result) in (adds + [during]).enumerated() {
                #expect(result.status == 0, "add \(index): exit \(result.status) \(result.stderr)")
                #expect(!result.stderr.lowercased().contains("locked"), "add \(index): \(result.stderr)")
            }
            #expect(reconciled.status == 0, "\(reconciled.stdout)\n\(reconciled.stderr)")
            #expect(!reconciled.stderr.lowercased().contains("locked"), "\(reconciled.stderr)")

            let final = try await registry.portkeeper(["reconcile"])
            #expect(final.status == 0, "\(final.stderr)")
            let all = Self.keys + ["9300/tcp", "9301/tcp", "9302/udp", "9303/tcp"]
            #expect(Set(try await registry.mappings().map { "\($0.externalPort)/\($0.protocol.lowercased())" }) == Set(all))
            #expect(Set(gateway.mappings.map { "\($0.externalPort)/\($0.protocol.lowercased())" }) == Set(all))
            #expect(gateway.actionCount("AddPortMapping") == all.count, "AddPortMapping sent \(gateway.actionCount("AddPortMapping")) times for \(all.count) mappings")
            #expect(try await registry.integrityCheck() == "ok")
            #expect(try await registry.unresolvedOperations() == [])
        }
    }

    /// Ten `add --no-apply` of different keys at the same moment: every one is declared.
    @Test("concurrent adds of different keys: every declaration is kept")
    func concurrentAdds() async throws {
        try await withGateway { gateway in
            let registry = try ScratchRegistry("concurrent-adds")
            defer { registry.remove() }
            try await Self.declare(["9000/tcp"], on: registry, gateway: gateway)
            let keys = (1...10).map { "\(9400 + $0)/tcp" }
            let results = try await withThrowingTaskGroup(of: (String, ProcessResult).self) { group in
                for key in keys {
                    group.addTask { (key, try await registry.portkeeper(["add", key, "--no-apply"])) }
                }
                return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
            }
            for (key, result) in results.sorted(by: { $0.key < $1.key }) {
                #expect(result.status == 0, "add \(key): \(result.stderr)")
                #expect(!result.stderr.lowercased().contains("locked"), "add \(key): \(result.stderr)")
            }
            let declared = Set(try await registry.mappings().map { "\($0.externalPort)/\($0.protocol.lowercased())" })
            #expect(declared == Set(["9000/tcp"] + keys), "lost: \(Set(["9000/tcp"] + keys).subtracting(declared).sorted())")
            #expect(try await registry.history().filter { $0.changes.contains { $0.kind == "declared" } }.count == 11)
            #expect(try await registry.integrityCheck() == "ok")
        }
    }

    /// A reconcile that cannot get the lock within its wait (30 s) gives up with one line naming
    /// the holder, and touches nothing.
    @Test("a reconcile that waits too long for the lock says who holds it and changes nothing")
    func busy() async throws {
        try await withGateway { gateway in
            let registry = try ScratchRegistry("busy")
            defer { registry.remove() }
            try await Self.declare(["9000/tcp"], on: registry, gateway: gateway)
            let history = try await registry.portkeeper(["history", "--json"]).stdout

            // Hold the reconcile lock from this process, as a running portkeeper would.
            let fd = open(registry.path + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            try #require(fd >= 0)
            defer { close(fd) }
            try #require(flock(fd, LOCK_EX | LOCK_NB) == 0)
            let pid = Array("\(getpid())\nreconcile\n".utf8)
            _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }

            let result = try await registry.portkeeper(["reconcile"], timeout: .seconds(120))
            // Exit 75 (EX_TEMPFAIL): busy, try again.
            expectOneLineRefusal(result, saying: "another portkeeper is reconciling this registry (pid \(getpid()), reconcile); try again when it finishes",
                                 status: 75)
            #expect(gateway.actionCount("AddPortMapping") == 0)
            #expect(try await registry.portkeeper(["history", "--json"]).stdout == history)

            // Declaring needs no lock.
            let add = try await registry.portkeeper(["add", "9001/tcp", "--no-apply"])
            #expect(add.status == 0, "\(add.stderr)")
        }
    }
}
