import Foundation

/// Who holds the registry when SQLite says it is busy, where that can be told.
///
/// SQLite's locks are POSIX record locks, which Linux lists in /proc/locks with the holder's
/// pid: the writer of a WAL database holds a write lock on its -shm file. A portkeeper that
/// reconciles also names itself in the reconcile lock file (``Registry/lockPath``).
public enum RegistryHolder: Sendable, Hashable {
    /// Another portkeeper process, and what it is doing ("reconcile", "watch") when known.
    case portkeeper(pid: Int32, activity: String?)
    /// Another program (an sqlite3 shell, a script), with its process name when known.
    case otherProgram(pid: Int32, name: String?)

    /// The process other than this one that holds a write lock on the database at
    /// `databasePath` (or its -shm file), else the portkeeper holding its reconcile lock, else nil.
    public static func find(databasePath: String) -> RegistryHolder? {
        let lockHolder = ReconcileLockFile.holder(path: databasePath + ".lock")
        if let pid = sqliteWriter(databasePath: databasePath) {
            if let lockHolder, lockHolder.pid == pid { return .portkeeper(pid: pid, activity: lockHolder.activity) }
            let argv = commandLine(pid)
            let name = processName(pid)
            if name == "portkeeper" || argv.first.map({ ($0 as NSString).lastPathComponent == "portkeeper" }) == true {
                return .portkeeper(pid: pid, activity: argv.dropFirst().first { !$0.hasPrefix("-") })
            }
            return .otherProgram(pid: pid, name: name)
        }
        if let lockHolder { return .portkeeper(pid: lockHolder.pid, activity: lockHolder.activity) }
        return nil
    }

    /// The pid of another process holding a POSIX write lock on the database file or its -shm
    /// file, read from /proc/locks (Linux); nil when none is listed or it cannot be read.
    static func sqliteWriter(databasePath: String) -> Int32? {
        let files = [databasePath, databasePath + "-shm"].compactMap(fileIdentity)
        guard !files.isEmpty, let table = try? String(contentsOfFile: "/proc/locks", encoding: .utf8) else { return nil }
        let me = getpid()
        for line in table.split(separator: "\n") {
            // "5: POSIX  ADVISORY  WRITE 12921 fe:00:16222695 120 120"; waiters are marked "->".
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, !fields.contains("->"), fields[1] == "POSIX", fields[3] == "WRITE",
                  let pid = Int32(fields[4]), pid > 0, pid != me else { continue }
            let parts = fields[5].split(separator: ":")
            guard parts.count == 3, let major = UInt64(parts[0], radix: 16), let minor = UInt64(parts[1], radix: 16),
                  let inode = UInt64(parts[2]) else { continue }
            if files.contains(where: { $0.major == major && $0.minor == minor && $0.inode == inode }) { return pid }
        }
        return nil
    }

    private static func fileIdentity(_ path: String) -> (major: UInt64, minor: UInt64, inode: UInt64)? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        let device = UInt64(info.st_dev)
        // Linux's dev_t layout (glibc's major() and minor()).
        let major = ((device >> 8) & 0xfff) | ((device >> 32) & ~UInt64(0xfff))
        let minor = (device & 0xff) | ((device >> 12) & ~UInt64(0xff))
        return (major, minor, UInt64(info.st_ino))
    }

    private static func processName(_ pid: Int32) -> String? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8) else { return nil }
        let name = text.trimmingCharacters(in: .whitespacesAndNewlines)
        // Only what a process name can honestly be: printable, short.
        guard !name.isEmpty, name.count <= 64, name.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7f }) else { return nil }
        return name
    }

    private static func commandLine(_ pid: Int32) -> [String] {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return [] }
        return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }
}
