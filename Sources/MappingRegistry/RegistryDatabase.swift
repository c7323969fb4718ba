import Foundation
import GRDB
import Migrations
#if canImport(GRDBSQLite)
import GRDBSQLite
#else
import SQLite3
#endif

/// portkeeper's registry: one SQLite file (WAL mode, so that a CLI and a long-running `watch`
/// can share it), its schema migrated by the embedded migrations of Migrations/.
///
/// Opening never writes to a file it refuses (not a database, written by a newer portkeeper,
/// another program's database), and writes nothing to a registry already at this schema.
public final class Registry: Sendable {
    /// The database file.
    public let path: String
    /// The connections. Reads run concurrently; writes one at a time, waiting up to
    /// ``busyTimeout`` for another process's write to finish.
    let database: DatabasePool

    /// How long SQLite waits for another process's lock before giving up with "busy".
    static let busyTimeout: TimeInterval = 5

    /// Opens the registry at `path`, creating it (and its directory) when missing, and brings
    /// its schema up to date.
    ///
    /// A new directory gets mode 0700 and a new file 0600, whatever the umask; SQLite gives its
    /// -wal and -shm files the mode of the database file.
    ///
    /// - Throws: ``RegistryError`` (`notADatabase`, `newerVersion`, `readOnly`, `cannotCreate`,
    ///   `busy`, `corrupt`, `invalid`), or an error of a migration.
    public init(path: String) throws {
        guard !path.isEmpty else {
            throw RegistryError.invalid("the registry path is empty", context: .emptyPath)
        }
        self.path = path
        let directory = Self.directory(of: path)
        try Self.makeDirectory(directory)
        try Self.prepareFile(path, in: directory)

        let migrator = Self.migrator
        // Look before writing anything: SQLite's WAL switch and GRDB's pool both write.
        let upToDate: Bool
        let companions = [path + "-wal", path + "-shm"]
        let existing = companions.filter { FileManager.default.fileExists(atPath: $0) }
        do {
            upToDate = try Self.inspect(path, migrator: migrator)
        } catch {
            // Refused: leave no trace. A reader of a WAL database creates -shm (and -wal); the
            // files it created are removed again, those another process made are left alone.
            for companion in companions where !existing.contains(companion) {
                try? FileManager.default.removeItem(atPath: companion)
            }
            throw RegistryError.mapping(error, path: path)
        }

        do {
            database = try DatabasePool(path: path, configuration: Self.configuration)
        } catch {
            throw RegistryError.mapping(error, path: path)
        }
        if !upToDate {
            try Self.migrate(database, with: migrator, path: path)
        }
    }

    /// The registry file to use when none is given: `$PORTKEEPER_DB` if set; else
    /// `$XDG_DATA_HOME/portkeeper/registry.sqlite` when XDG_DATA_HOME is an absolute path; else
    /// `$HOME/.local/share/portkeeper/registry.sqlite`.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicit = environment["PORTKEEPER_DB"], !explicit.isEmpty {
            return explicit
        }
        if let dataHome = environment["XDG_DATA_HOME"], dataHome.hasPrefix("/") {
            return joined(dataHome, "portkeeper/registry.sqlite")
        }
        var home = environment["HOME"] ?? ""
        if home.isEmpty {
            // No HOME at all: the account's home directory, as the system knows it.
            home = FileManager.default.homeDirectoryForCurrentUser.path
        }
        return joined(home, ".local/share/portkeeper/registry.sqlite")
    }

    // MARK: - Queries

    /// Runs `body` in a read transaction; SQLite's errors become ``RegistryError``s.
    func reading<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try database.read(body)
        } catch {
            throw RegistryError.mapping(error, path: path)
        }
    }

    /// Runs `body` in a write transaction; SQLite's errors become ``RegistryError``s.
    func writing<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try database.write(body)
        } catch {
            throw RegistryError.mapping(error, path: path)
        }
    }

    /// Checks every page of the file with `PRAGMA quick_check` (the b-trees, their cells and
    /// the free list; not that indexes match their tables), reading only.
    ///
    /// Reads every page (about 60 ms of CPU for 100,000 revisions, 50 MiB): commands that act
    /// on a router run it first, so that a damaged registry is named before anything is sent;
    /// read-only commands rely on SQLite reporting a malformed page they read.
    /// - Throws: ``RegistryError`` `corrupt` ("the registry is damaged; …") naming the first
    ///   problem found.
    public func checkIntegrity() throws {
        let problems = try reading { db in try String.fetchAll(db, sql: "PRAGMA quick_check(1)") }
        guard problems == ["ok"] else {
            let first = problems.first.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? "no answer"
            throw RegistryError.corrupt(path: path, detail: "SQLite's check found \(Self.printable(first, limit: 120))")
        }
    }

    /// `text` cut to `limit` characters, control characters replaced, for a one-line message.
    static func printable(_ text: String, limit: Int) -> String {
        let cleaned = String(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? " " : Character($0) })
        return cleaned.count > limit ? String(cleaned.prefix(limit)) + "…" : cleaned
    }

    // MARK: - Opening

    /// The pool's connections: WAL (set by the pool), busy timeout, foreign keys, and a WAL file
    /// that outlives the last connection (see ``keepWALFile(_:)``).
    private static var configuration: Configuration {
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        configuration.foreignKeysEnabled = true
        configuration.label = "portkeeper registry"
        configuration.prepareDatabase { db in
            keepWALFile(db)
        }
        return configuration
    }

    /// Asks SQLite not to delete the -wal file when the last connection closes (it is still
    /// checkpointed into the database file, which stays complete on its own).
    ///
    /// A DatabasePool writes a dummy transaction when it opens a database whose -wal file is
    /// missing or empty. Keeping the file means that opening an up-to-date registry writes
    /// nothing; only the first open after another program deleted the -wal file writes.
    private static func keepWALFile(_ db: Database) {
        var persist: CInt = 1
        _ = sqlite3_file_control(db.sqliteConnection, "main", SQLITE_FCNTL_PERSIST_WAL, &persist)
    }

    /// Every embedded migration, in order, each run in a transaction.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for migration in EmbeddedMigrations.all {
            let sql = migration.sql
            migrator.registerMigration(migration.identifier) { db in
                try db.execute(sql: sql)
            }
        }
        return migrator
    }

    /// Reads the file through a read-only connection and tells whether its schema is complete
    /// and it is already in WAL mode, so that opening it needs no write.
    ///
    /// - Throws: ``RegistryError`` `newerVersion` when a migration this binary does not know was
    ///   applied, `notADatabase` when the file is another program's SQLite database, or the
    ///   error SQLite reported (not a database, corrupt, busy…).
    private static func inspect(_ path: String, migrator: DatabaseMigrator) throws -> Bool {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(busyTimeout)
        configuration.label = "portkeeper registry check"
        let known = EmbeddedMigrations.all.map(\.identifier)
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        return try queue.read { db in
            let applied = try migrator.appliedIdentifiers(db)
            if let unknown = applied.subtracting(known).sorted().last {
                throw RegistryError.newerVersion(path: path, unknownMigration: unknown)
            }
            if applied.isEmpty, try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") ?? 0 > 0 {
                // Tables, but none of ours: someone else's database, to be left alone.
                throw RegistryError(.notADatabase, "\(path) is an SQLite database of another program, not a portkeeper registry", context: .anotherFileWouldDo)
            }
            let journalMode = try String.fetchOne(db, sql: "PRAGMA journal_mode")
            return applied.isSuperset(of: known) && journalMode?.lowercased() == "wal"
        }
    }

    /// Applies the missing migrations.
    ///
    /// Two processes may migrate one file at the same time (each migration runs in an
    /// immediate transaction, but GRDB decides what is missing before taking the lock): the
    /// loser's migration fails on the tables the winner just made, so it looks again and
    /// carries on from where the other one got.
    private static func migrate(_ database: DatabasePool, with migrator: DatabaseMigrator, path: String) throws {
        let known = Set(EmbeddedMigrations.all.map(\.identifier))
        func applied() throws -> Set<String> {
            do {
                return try database.read { try migrator.appliedIdentifiers($0) }
            } catch {
                throw RegistryError.mapping(error, path: path)
            }
        }
        func refuseNewer(_ applied: Set<String>) throws {
            if let unknown = applied.subtracting(known).sorted().last {
                throw RegistryError.newerVersion(path: path, unknownMigration: unknown)
            }
        }
        var before = try applied()
        while true {
            try refuseNewer(before)
            do {
                try migrator.migrate(database)
                try refuseNewer(try applied())
                return
            } catch let error as RegistryError {
                throw error
            } catch {
                let now = try applied()
                try refuseNewer(now)
                if now.isSuperset(of: known) { return }
                // Somebody else made progress: try again from there. Otherwise the failure is ours.
                guard now != before else { throw RegistryError.mapping(error, path: path) }
                before = now
            }
        }
    }

    // MARK: - Files

    private static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let directory = String(path[..<slash])
        return directory.isEmpty ? "/" : directory
    }

    private static func joined(_ directory: String, _ relative: String) -> String {
        var directory = directory
        while directory.count > 1 && directory.hasSuffix("/") { directory.removeLast() }
        return directory == "/" ? "/" + relative : directory + "/" + relative
    }

    private static func errorText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }

    private static func isPermissionError(_ code: Int32) -> Bool {
        code == EACCES || code == EPERM || code == EROFS
    }

    /// Creates `directory` and its missing parents with mode 0700; an existing one is left as is.
    private static func makeDirectory(_ directory: String) throws {
        var info = stat()
        if stat(directory, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else {
                throw RegistryError.cannotCreate(path: directory, reason: "it exists and is not a directory")
            }
            return
        }
        let code = errno
        guard code == ENOENT else {
            throw RegistryError.cannotCreate(path: directory, reason: errorText(code))
        }
        let parent = Self.directory(of: directory)
        if parent != directory {
            try makeDirectory(parent)
        }
        if mkdir(directory, 0o700) == 0 {
            // The umask may have taken bits away; set exactly 0700.
            chmod(directory, 0o700)
            return
        }
        let failure = errno
        if failure == EEXIST { return try makeDirectory(directory) } // made meanwhile: check it
        if isPermissionError(failure) { throw RegistryError.readOnly(path: parent) }
        throw RegistryError.cannotCreate(path: directory, reason: errorText(failure))
    }

    /// Creates the file with mode 0600 when missing; checks that an existing one, and its
    /// directory, can be written.
    ///
    /// An existing file is never opened here: closing a descriptor of a file SQLite has open in
    /// this process (another Registry on the same path) would drop SQLite's POSIX locks on it.
    private static func prepareFile(_ path: String, in directory: String) throws {
        var info = stat()
        if stat(path, &info) != 0 {
            let code = errno
            guard code == ENOENT else { throw RegistryError.cannotCreate(path: path, reason: errorText(code)) }
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd >= 0 {
                // The umask may have taken bits away (it cannot add any); set exactly 0600.
                fchmod(fd, 0o600)
                close(fd)
            } else {
                let failure = errno
                if failure == EEXIST { return try prepareFile(path, in: directory) } // made meanwhile
                if isPermissionError(failure) { throw RegistryError.readOnly(path: directory) }
                throw RegistryError.cannotCreate(path: path, reason: errorText(failure))
            }
        } else {
            switch info.st_mode & S_IFMT {
            case S_IFREG:
                break
            case S_IFDIR:
                throw RegistryError.cannotCreate(path: path, reason: "it is a directory; give a file")
            default:
                throw RegistryError.cannotCreate(path: path, reason: "it is not a regular file")
            }
            if access(path, W_OK) != 0 {
                let code = errno
                if isPermissionError(code) { throw RegistryError.readOnly(path: path) }
                throw RegistryError.cannotCreate(path: path, reason: errorText(code))
            }
        }
        // SQLite creates the -wal and -shm files next to the database.
        if access(directory, W_OK | X_OK) != 0 {
            let code = errno
            if isPermissionError(code) { throw RegistryError.readOnly(path: directory) }
            throw RegistryError.cannotCreate(path: directory, reason: errorText(code))
        }
    }
}
