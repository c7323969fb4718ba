import Foundation

/// SQL on a registry file from outside portkeeper, through Python's sqlite3 module: another
/// SQLite client, as a user's tools would be (the tests do not link GRDB).
public enum SQLiteShell {
    /// The rows `sql` returns, one line each, columns joined by "|"; through a read-only
    /// connection, so that looking changes nothing (no checkpoint, no -wal removal).
    public static func query(_ path: String, _ sql: String) async throws -> String {
        let script = """
            import sqlite3, sys, urllib.parse
            c = sqlite3.connect("file:" + urllib.parse.quote(sys.argv[1]) + "?mode=ro", uri=True)
            for row in c.execute(sys.argv[2]):
                print("|".join(str(v) for v in row))
            """
        let result = try await ProcessRunner.run(python, ["-c", script, path, sql], timeout: .seconds(60))
        try result.check([python, sql])
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs `sql` (several statements allowed) in a read-write connection and commits.
    public static func execute(_ path: String, _ sql: String) async throws {
        let script = """
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1])
            c.executescript(sys.argv[2])
            c.commit()
            c.close()
            """
        try await ProcessRunner.run(python, ["-c", script, path, sql], timeout: .seconds(60)).check([python, sql])
    }

    /// `PRAGMA integrity_check`: "ok" for a sound file.
    public static func integrityCheck(_ path: String) async throws -> String {
        try await query(path, "PRAGMA integrity_check")
    }

    /// How many journaled operations are still pending or of unknown outcome.
    public static func unresolvedOperations(_ path: String) async throws -> Int {
        Int(try await query(path, "SELECT count(*) FROM operation WHERE outcome = 'pending' OR outcome LIKE 'unknown%'")) ?? -1
    }

    /// The system's python3 first: a version manager's shim on PATH (pyenv) starts a shell
    /// and several helper scripts before python itself, a tenth of a second each time.
    public static var python: String {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")
            ? "/usr/bin/python3" : ((try? ProcessRunner.resolve("python3")) ?? "python3")
    }
}

/// Running processes, found in /proc (to kill one a test started, by its pid; the lab's
/// namespaces share this pid namespace).
public enum ProcessTable {
    /// The pids of live processes whose argv[0] is `executable` and whose arguments include each
    /// of `arguments`.
    public static func pids(executable: String, arguments: [String]) -> [Int32] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { Int32($0) }.filter { pid in
            let argv = commandLine(pid)
            return argv.first == executable && arguments.allSatisfy { argv.dropFirst().contains($0) }
        }
    }

    /// argv of `pid` (empty for a zombie or a process gone).
    public static func commandLine(_ pid: Int32) -> [String] {
        guard let handle = FileHandle(forReadingAtPath: "/proc/\(pid)/cmdline") else { return [] }
        defer { try? handle.close() }
        guard let data = try? handle.readToEnd() else { return [] }
        return data.split(separator: 0, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
    }
}
