import Foundation
import IGDTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// §6: the registry file itself going wrong under a running portkeeper — damaged pages, a full
/// disk, another program holding it — with real files and real processes, against the fake
/// gateway on loopback. Each failure is one line, with an exit code of its own where a script
/// needs to tell it apart (README, "Exit codes"), and nothing is sent to the router from a
/// registry that cannot record it.
@Suite("Registry faults: damage, a full disk, another writer")
struct RegistryFaultTests {
    /// Every command that acts on a router, each refused before it sends anything.
    static let actingCommands: [[String]] = [
        ["reconcile"], ["add", "9100/tcp"], ["add", "9100/tcp", "--no-apply"], ["remove", "9000/tcp"], ["rollback", "1"],
        ["watch", "--interval", "1", "--no-announcements"],
    ]

    // MARK: - Damage

    @Test("garbage over the revision table's pages: history and every acting command say \"the registry is damaged\", exit 65, nothing sent")
    func garbageOverTheRevisionTable() async throws {
        try await withSeededRegistry("damaged") { registry, gateway in
            let pages = try await Damage.overwritePages(of: "revision", in: registry.path)
            try #require(!pages.isEmpty)
            let requestsBefore = gateway.requests.count

            for arguments in [["history"], ["history", "--json"]] + Self.actingCommands {
                let result = try await registry.portkeeper(arguments, timeout: .seconds(60))
                expectOneLineRefusal(result, saying: "the registry is damaged; \(registry.path)", arguments, status: 65)
                #expect(result.stderr.contains("sqlite3 \(registry.path) .recover"), "\(arguments): \(result.stderr)")
                #expect(!result.stderr.contains("SQLite error"), "\(arguments): \(result.stderr)")
            }
            #expect(gateway.requests.count == requestsBefore, "a command sent \(gateway.requests.count - requestsBefore) requests from a damaged registry")
        }
    }

    @Test("one damaged page in the middle of a long history: reconcile refuses before sending (quick_check); history refuses once it reads that page")
    func oneDamagedPageInTheMiddle() async throws {
        try await withSeededRegistry("damaged-middle") { registry, gateway in
            try await Damage.growHistory(registry.path, to: 3000)
            let leaves = try await SQLiteShell.query(registry.path, "SELECT pageno FROM dbstat WHERE name = 'revision' AND pagetype = 'leaf' ORDER BY pageno")
                .split(separator: "\n").compactMap { Int($0) }
            try #require(leaves.count > 20, "the revision table has \(leaves.count) leaf pages")
            let middle = leaves[leaves.count / 2]
            try await Damage.overwrite(pages: [middle], in: registry.path)
            let requestsBefore = gateway.requests.count

            // The newest revisions live in other pages: what history shows is intact.
            let recent = try await registry.portkeeper(["history", "--limit", "5"])
            #expect(recent.status == 0, "\(recent.stderr)")
            // Reading every revision reaches the damaged page: refused, not shown in part.
            let all = try await registry.portkeeper(["history", "--limit", "100000"])
            expectOneLineRefusal(all, saying: "the registry is damaged; \(registry.path): SQLite found a malformed page", status: 65)
            #expect(all.stdout.isEmpty)

            // A command that acts checks every page first.
            let reconcile = try await registry.portkeeper(["reconcile"])
            expectOneLineRefusal(reconcile, saying: "the registry is damaged; \(registry.path): SQLite", status: 65)
            #expect(gateway.requests.count == requestsBefore)
        }
    }

    @Test("a registry damaged under a running watch: the watch ends with the one line and exit 65, sending nothing more")
    func damagedUnderARunningWatch() async throws {
        try await withSeededRegistry("damaged-watch") { registry, gateway in
            let watching = Task { try await registry.portkeeper(["watch", "--interval", "0.3", "--no-announcements"], timeout: .seconds(120)) }
            let looksBefore = gateway.actionCount("GetListOfPortMappings")
            try await waitUntil("watch checked the gateway twice") { gateway.actionCount("GetListOfPortMappings") >= looksBefore + 2 }

            // Damage the revision table under it; then take a mapping away, so that the watch
            // must start a revision to put it back.
            _ = try await Damage.overwritePages(of: "revision", in: registry.path, removingWAL: false)
            let addsBefore = gateway.actionCount("AddPortMapping")
            gateway.setMappings(gateway.mappings.filter { $0.externalPort != 9000 })

            let result = try await watching.value
            #expect(result.status == 65, "exit \(result.status)\n\(result.stderr)")
            let last = result.stderr.split(separator: "\n").last { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            #expect(last?.hasPrefix("portkeeper: error: the registry is damaged; \(registry.path)") == true, "\(result.stderr)")
            #expect(!result.stderr.contains("retrying"), "\(result.stderr)")
            #expect(gateway.actionCount("AddPortMapping") == addsBefore)
        }
    }

    @Test("a registry whose header is damaged (its SQLite magic intact): \"the registry is damaged\", exit 65, not \"not a registry\"")
    func damagedHeader() async throws {
        try await withSeededRegistry("damaged-header") { registry, gateway in
            try await SQLiteShell.execute(registry.path, "PRAGMA wal_checkpoint(TRUNCATE)")
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: registry.path + suffix) }
            // The page size and the fields after it, behind "SQLite format 3\0".
            let handle = try #require(FileHandle(forUpdatingAtPath: registry.path))
            try handle.seek(toOffset: 16)
            try handle.write(contentsOf: Data(repeating: 0xff, count: 84))
            try handle.close()
            let before = registry.files()
            let requestsBefore = gateway.requests.count
            for arguments in [["history"], ["mappings"], ["reconcile"]] {
                let result = try await registry.portkeeper(arguments)
                expectOneLineRefusal(result, saying: "the registry is damaged; \(registry.path): its header is unreadable", arguments, status: 65)
                #expect(registry.files() == before, "\(arguments) changed the file")
            }
            #expect(gateway.requests.count == requestsBefore)
        }
    }

    @Test("a revision whose recorded changes no longer decode: history names it instead of showing it empty")
    func aRowThatDoesNotDecode() async throws {
        try await withSeededRegistry("undecodable") { registry, _ in
            let newest = try await SQLiteShell.query(registry.path, "SELECT max(id) FROM revision")
            try await SQLiteShell.execute(registry.path, "UPDATE revision SET changes = '[{\"kind\": 7' WHERE id = \(newest)")
            let result = try await registry.portkeeper(["history"])
            expectOneLineRefusal(result, saying: "the registry is damaged; \(registry.path): revision \(newest) does not decode", status: 65)
        }
    }

    // MARK: - Another writer

    @Test("another program holds a write transaction: after the 5 s busy timeout, one line naming it and what to do, exit 75")
    func anotherProgramHoldsTheRegistry() async throws {
        try await withSeededRegistry("foreign-writer") { registry, gateway in
            let mappings = try await registry.portkeeper(["mappings", "--json"]).stdout
            let holder = try await ForeignWriter.start(registry.path)
            defer { holder.release() }

            // Reading goes on beside a writer (WAL).
            #expect(try await registry.portkeeper(["mappings", "--json"]).stdout == mappings)

            let clock = ContinuousClock()
            let start = clock.now
            let result = try await registry.portkeeper(["add", "9100/tcp", "--no-apply"])
            let waited = clock.now - start
            expectOneLineRefusal(result, saying: "\(registry.path) is locked by another program (python3, pid \(holder.pid)) holding a write transaction; finish or close it, then try again",
                                 status: 75)
            #expect(!result.stderr.contains("database is locked"), "\(result.stderr)")
            // SQLite waited out the busy timeout before giving up (a lower bound: it never gives up sooner).
            #expect(waited >= .seconds(5), "gave up after \(waited)")
            print("busy: the message came after \(waited) (busy timeout 5 s)")

            await holder.stop()
            let after = try await registry.portkeeper(["add", "9100/tcp", "--no-apply"])
            #expect(after.status == 0, "\(after.stderr)")
            _ = gateway
        }
    }

    @Test("a reconcile names itself in the lock file: its pid and \"reconcile\"")
    func theLockFileNamesItsHolder() async throws {
        try await withGateway { gateway in
            let registry = try ScratchRegistry("lock-holder")
            defer { registry.remove() }
            try await registry.portkeeper(["add", "9000/tcp", "--no-apply", "--gateway", gateway.descriptionURL]).check()
            gateway.injectReply(action: "AddPortMapping", reply: .hang, times: 1)
            let executable = try Products.path("portkeeper")
            // The request hangs far longer than a busy machine could take to look at the lock
            // file; the test ends the reconcile itself once it has.
            let running = Task { try await registry.portkeeper(["reconcile", "--request-timeout", "120"]) }
            defer { for pid in ProcessTable.pids(executable: executable, arguments: ["reconcile", registry.path]) { kill(pid, SIGKILL) } }
            try await waitUntil("the gateway received AddPortMapping") { gateway.actionCount("AddPortMapping") >= 1 }
            let pids = ProcessTable.pids(executable: executable, arguments: ["reconcile", registry.path])
            try #require(pids.count == 1)
            let lockFile = String(decoding: FileManager.default.contents(atPath: registry.path + ".lock") ?? Data(), as: UTF8.self)
            #expect(lockFile == "\(pids[0])\nreconcile\n")
            kill(pids[0], SIGKILL)
            _ = try await running.value
        }
    }

    // MARK: - A full disk

    /// Root mounts a small tmpfs; elsewhere this is skipped, and a failure when the lab is
    /// required (CI).
    static let canMount = geteuid() == 0 || Lab.isRequired

    @Test("disk full right after AddPortMapping reached the router: add fails saying so; once space is freed, reconcile finds the mapping and records it, sending nothing twice",
          .enabled(if: canMount, "needs root to mount a small tmpfs (set PORTKEEPER_REQUIRE_LAB=1 to make this a failure)"))
    func diskFullAfterTheRouterActed() async throws {
        try #require(geteuid() == 0, "mounting a tmpfs needs root")
        try await withGateway { gateway in
            let registry = try ScratchRegistry("disk-full")
            defer { registry.remove() }
            let volume = try await SmallVolume.mount(at: registry.directory, size: "4m")
            defer { volume.unmount() }

            // The router gets the request; while its answer is on the way, the disk fills up.
            // (An injected reply replaces the fake's own action: the test puts the entry in, as
            // the router would have.)
            let answer = FakeSOAP.responseBody(action: "AddPortMapping", serviceType: gateway.profile.serviceType, arguments: [])
            let head = "HTTP/1.1 200 OK\r\nContent-Type: \(FakeSOAP.contentType)\r\nContent-Length: \(answer.utf8.count)\r\nConnection: close\r\n\r\n"
            let bytes = Array((head + answer).utf8)
            let answerSent = FakeGate()
            gateway.injectReply(action: "AddPortMapping", reply: .held(bytes, until: answerSent), times: 1)
            let adding = Task { try await registry.portkeeper(["add", "9000/tcp", "--description", "full disk", "--gateway", gateway.descriptionURL]) }
            try await waitUntil("the gateway received AddPortMapping") { gateway.actionCount("AddPortMapping") >= 1 }
            let request = try #require(gateway.requests.last { $0.header("SOAPAction")?.contains("#AddPortMapping") == true })
            gateway.setMappings(gateway.mappings + [try CrashSafetyTests.mapping(try #require(FakeSOAPRequest.parse(request.body)))])
            let filled = try volume.fill()
            answerSent.open()
            let add = try await adding.value
            expectOneLineRefusal(add, saying: "AddPortMapping 9000/tcp reached the gateway but its outcome could not be recorded: cannot write \(registry.path): the disk is full")
            #expect(add.stderr.contains("`portkeeper reconcile` finds it on the gateway and records it"), "\(add.stderr)")
            #expect(!add.stderr.contains("SQLite error"), "\(add.stderr)")
            #expect(gateway.actionCount("AddPortMapping") == 1)
            print("disk full: filled \(filled) bytes while the answer was on its way")

            // Space again: the journal still holds the operation, pending.
            volume.free()
            #expect(try await registry.unresolvedOperations() == ["AddPortMapping 9000/tcp pending"])

            let reconcile = try await registry.portkeeper(["reconcile"])
            #expect(reconcile.status == 0, "\(reconcile.stdout)\(reconcile.stderr)")
            #expect(gateway.actionCount("AddPortMapping") == 1, "the mapping was sent again")
            #expect(gateway.mappings.count == 1)
            #expect(try await registry.unresolvedOperations() == [])
            let newest = try await registry.history().first
            let resolved = newest?.changes.filter { $0.detail.contains("resolved as ok by reading the gateway") } ?? []
            #expect(resolved.count == 1, "\(newest as Any)")
            // Recorded as portkeeper's own: in sync, not a foreign entry.
            let plan = try await registry.portkeeper(["plan", "--exit-code"])
            #expect(plan.status == 0, "\(plan.stdout)\(plan.stderr)")
            #expect(!plan.stdout.contains("= foreign"), "\(plan.stdout)")
            #expect(try await SQLiteShell.query(registry.path, "SELECT protocol || ' ' || external_port FROM owned_mapping") == "TCP 9000")
            #expect(try await registry.integrityCheck() == "ok")
        }
    }
}

/// Deliberate damage to a registry file, from outside portkeeper.
enum Damage {
    /// Overwrites every page of `table` with garbage (after folding the -wal file into the
    /// database, so that no intact copy of a page is left to read); returns the page numbers.
    static func overwritePages(of table: String, in path: String, removingWAL: Bool = true) async throws -> [Int] {
        let pages = try await SQLiteShell.query(path, "SELECT pageno FROM dbstat WHERE name = '\(table)' ORDER BY pageno")
            .split(separator: "\n").compactMap { Int($0) }
        try await overwrite(pages: pages, in: path, removingWAL: removingWAL)
        return pages
    }

    /// Checkpoints the -wal file into the database and empties it (and removes it and the -shm
    /// file unless a process has them open: `removingWAL` false), then writes a fixed garbage
    /// pattern over each of `pages` (numbered from 1).
    static func overwrite(pages: [Int], in path: String, removingWAL: Bool = true) async throws {
        try await SQLiteShell.execute(path, "PRAGMA wal_checkpoint(TRUNCATE)")
        let pageSize = try #require(Int(try await SQLiteShell.query(path, "PRAGMA page_size")))
        if removingWAL {
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        defer { try? handle.close() }
        let garbage = Data(String(repeating: "garbage!", count: pageSize / 8).utf8)
        for page in pages {
            try handle.seek(toOffset: UInt64((page - 1) * pageSize))
            try handle.write(contentsOf: garbage)
        }
        try handle.synchronize()
    }

    /// Copies the registry's revisions until it holds `count` of them.
    static func growHistory(_ path: String, to count: Int) async throws {
        let existing = try #require(Int(try await SQLiteShell.query(path, "SELECT count(*) FROM revision")))
        guard count > existing else { return }
        try await SQLiteShell.execute(path, """
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(count - existing))
            INSERT INTO revision (time, command, actor, gateway_id, summary, changes)
            SELECT r.time, r.command, r.actor, r.gateway_id, r.summary, r.changes
            FROM n, (SELECT * FROM revision ORDER BY id LIMIT 1) r;
            """)
    }
}

/// A python3 process holding `BEGIN IMMEDIATE` on a registry (the write lock) until stopped.
struct ForeignWriter {
    let pid: Int32
    let directory: String

    static func start(_ path: String) async throws -> ForeignWriter {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("portkeeper-writer-\(UInt64.random(in: 0...UInt64.max))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let script = """
            import os, sqlite3, sys, time
            c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=0)
            c.execute("BEGIN IMMEDIATE")
            open(sys.argv[2], "w").write(str(os.getpid()))
            while not os.path.exists(sys.argv[3]):
                time.sleep(0.02)
            c.execute("ROLLBACK")
            """
        let ready = directory + "/ready", stop = directory + "/stop"
        let python = SQLiteShell.python
        Task { _ = try? await ProcessRunner.run(python, ["-c", script, path, ready, stop], timeout: .seconds(120)) }
        try await waitUntil("python3 holds BEGIN IMMEDIATE") { FileManager.default.fileExists(atPath: ready) }
        try await Task.sleep(for: .milliseconds(20))
        let pid = try #require(Int32(String(decoding: FileManager.default.contents(atPath: ready) ?? Data(), as: UTF8.self)))
        return ForeignWriter(pid: pid, directory: directory)
    }

    /// Asks it to roll back and end, without waiting (for `defer`).
    func release() {
        _ = FileManager.default.createFile(atPath: directory + "/stop", contents: Data())
    }

    /// Asks it to roll back and end; waits until it is gone, sleeping rather than blocking a
    /// thread of the Swift concurrency pool (two on two cores) that other tests' fakes answer on.
    func stop() async {
        release()
        let deadline = ContinuousClock.now + .seconds(20)
        while kill(pid, 0) == 0 && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// A tmpfs of a few MiB mounted over a test's directory, to be filled up.
struct SmallVolume {
    let path: String

    static func mount(at path: String, size: String) async throws -> SmallVolume {
        try await ProcessRunner.run("mount", ["-t", "tmpfs", "-o", "size=\(size),mode=0700", "portkeeper-test", path], timeout: .seconds(20))
            .check(["mount", "-t", "tmpfs", path])
        return SmallVolume(path: path)
    }

    var filler: String { path + "/filler" }

    /// Writes a file until the volume refuses another byte; returns how many it took.
    func fill() throws -> Int {
        let fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(fd) }
        var total = 0
        for chunk in [65536, 4096, 512, 1] {
            let bytes = [UInt8](repeating: 0x5a, count: chunk)
            while true {
                let wrote = bytes.withUnsafeBytes { write(fd, $0.baseAddress, chunk) }
                if wrote <= 0 { break }
                total += wrote
            }
        }
        return total
    }

    func free() {
        unlink(filler)
    }

    func unmount() {
        _ = try? ProcessRunner.runBlocking("umount", [path], timeout: .seconds(20))
    }
}
