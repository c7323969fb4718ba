import Foundation
import GRDB

/// Why the registry could not do something: one line saying what happened, with what to do
/// where that needs no front end's flag or command.
///
/// Match on ``kind``; show ``description`` to the user. ``context`` tells a front end where it
/// has something of its own to add (the CLI: "use another --db", "`portkeeper history` lists
/// them"), which the registry never words itself. SQLite's own texts
/// ("SQLite error 8: attempt to write a readonly database - while executing …") never reach
/// the user as they are: every query maps SQLite's result codes to one of these kinds.
public struct RegistryError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong with the registry: switch on this, never on the message.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// The file exists but is not an SQLite database.
        case notADatabase
        /// The file was migrated by a newer portkeeper: its schema is unknown to this one.
        case newerVersion
        /// The file or its directory cannot be written.
        case readOnly
        /// The file or its directory cannot be created or opened.
        case cannotCreate
        /// Another process holds the registry (its lock, or SQLite's) for too long.
        case busy
        /// Something named does not exist (a revision, a gateway…).
        case notFound
        /// Bad input.
        case invalid
        /// The file is damaged (SQLite found a malformed page, or a row does not decode), or its
        /// content contradicts itself.
        case corrupt
        /// The disk (or the file system's quota) is full.
        case diskFull
        /// The operating system failed to read or write the file (SQLITE_IOERR).
        case ioError
        /// SQLite refused a query for a reason that is none of the above (a bug, most likely).
        case failed
    }

    /// Where a front end has something of its own to say about the failure.
    public enum Context: Sendable, Hashable {
        /// Nothing more to say.
        case none
        /// The file at the registry path cannot serve as it is; another file would.
        case anotherFileWouldDo
        /// No registry path was given.
        case emptyPath
        /// The revision asked for does not exist.
        case unknownRevision
        /// No gateway is recorded, and none was named.
        case noGatewayKnown
        /// Several gateways are recorded, and none was named.
        case severalGatewaysKnown
        /// No recorded gateway matches the reference given.
        case unknownGateway
        /// An operation (`operation`: "AddPortMapping 8080/tcp") reached the gateway and its
        /// outcome could not be recorded because of `cause`.
        indirect case outcomeNotRecorded(operation: String, cause: RegistryError)
    }

    /// What kind of failure it is.
    public let kind: Kind
    /// One line: what happened.
    public let message: String
    /// What to do, where that needs no front end's flag or command.
    public let hint: String?
    /// The details a front end needs (the other process holding the file, the path).
    public let context: Context

    /// An error of `kind` saying `message` in one line, with advice any front end could give.
    public init(_ kind: Kind, _ message: String, hint: String? = nil, context: Context = .none) {
        self.kind = kind
        // One line, whatever the pieces put together contained.
        self.message = message.split(whereSeparator: \.isNewline).joined(separator: " ")
        self.hint = hint?.split(whereSeparator: \.isNewline).joined(separator: " ")
        self.context = context
    }

    /// The message and the hint: "; " between them, or a space after a message that ends a sentence.
    public var description: String {
        guard let hint else { return message }
        return message.hasSuffix(".") ? "\(message) \(hint)" : "\(message); \(hint)"
    }

    // MARK: - Opening the registry

    /// "PATH is not a database …".
    public static func notADatabase(path: String) -> RegistryError {
        RegistryError(.notADatabase, "\(path) is not a portkeeper registry (file is not a database)", hint: "move it aside", context: .anotherFileWouldDo)
    }

    /// "PATH was written by a newer portkeeper (migration X unknown) …".
    public static func newerVersion(path: String, unknownMigration: String) -> RegistryError {
        RegistryError(.newerVersion, "\(path) was written by a newer portkeeper (migration \(unknownMigration) unknown)", hint: "upgrade portkeeper",
                      context: .anotherFileWouldDo)
    }

    /// "cannot write PATH: read-only …"; `path` is the file or the directory that cannot be written.
    public static func readOnly(path: String) -> RegistryError {
        RegistryError(.readOnly, "cannot write \(path): read-only", hint: "make it writable", context: .anotherFileWouldDo)
    }

    /// "cannot create PATH: REASON …".
    public static func cannotCreate(path: String, reason: String) -> RegistryError {
        RegistryError(.cannotCreate, "cannot create \(path): \(reason)", hint: "fix the path", context: .anotherFileWouldDo)
    }

    /// The database file stayed locked for longer than the busy timeout by someone unknown.
    public static func busy(path: String) -> RegistryError {
        busy(path: path, holder: nil)
    }

    /// The database file stayed locked for longer than the busy timeout; `holder` says by whom
    /// when that could be told.
    public static func busy(path: String, holder: RegistryHolder?) -> RegistryError {
        switch holder {
        case .portkeeper(let pid, let activity)?:
            return RegistryError(.busy, "the registry is busy: another portkeeper (\(describe(pid: pid, activity: activity))) holds \(path); try again when it finishes")
        case .otherProgram(let pid, let name)?:
            return RegistryError(.busy, "\(path) is locked by another program (\(name.map { "\($0), " } ?? "")pid \(pid)) holding a write transaction; finish or close it, then try again")
        case nil:
            return RegistryError(.busy, "\(path) is locked by another program holding a write transaction (an sqlite3 shell?); finish or close it, then try again")
        }
    }

    /// Another process holds the reconcile lock.
    public static func reconciling(pid: Int32?, activity: String? = nil) -> RegistryError {
        let who = pid.map { " (\(describe(pid: $0, activity: activity)))" } ?? ""
        return RegistryError(.busy, "another portkeeper is reconciling this registry\(who); try again when it finishes")
    }

    private static func describe(pid: Int32, activity: String?) -> String {
        "pid \(pid)" + (activity.map { ", \($0)" } ?? "")
    }

    /// "the registry is damaged; …": SQLite found a malformed page, or a row does not decode.
    public static func corrupt(path: String, detail: String) -> RegistryError {
        RegistryError(.corrupt, "the registry is damaged; \(path): \(detail).",
                      hint: "Keep a copy of it; `sqlite3 \(path) .recover` (or `.dump`) shows what can be saved; then move it aside to start a new one",
                      context: .anotherFileWouldDo)
    }

    /// The disk holding the registry is full.
    public static func diskFull(path: String) -> RegistryError {
        RegistryError(.diskFull, "cannot write \(path): the disk is full; free some space and try again")
    }

    /// The operating system failed to read or write the file.
    public static func ioError(path: String, detail: String) -> RegistryError {
        RegistryError(.ioError, "cannot read or write \(path): input/output error (\(detail)); check the disk and keep a copy of the file")
    }

    // MARK: - Using the registry

    /// Something named does not exist; `message` says what.
    public static func notFound(_ message: String, context: Context = .none) -> RegistryError { RegistryError(.notFound, message, context: context) }

    /// Bad input; `message` says what is wrong and what to give instead.
    public static func invalid(_ message: String, context: Context = .none) -> RegistryError { RegistryError(.invalid, message, context: context) }

    /// An operation reached the gateway and the registry could not record its outcome: it stays
    /// pending in the journal, and the next reconcile learns it by reading the gateway.
    public static func outcomeNotRecorded(operation: String, cause: RegistryError) -> RegistryError {
        RegistryError(cause.kind, "\(operation) reached the gateway but its outcome could not be recorded: \(cause)",
                      hint: "the next reconcile finds it on the gateway and records it", context: .outcomeNotRecorded(operation: operation, cause: cause))
    }

    /// The registry's content contradicts itself; `message` says how.
    public static func corrupt(_ message: String) -> RegistryError { RegistryError(.corrupt, message) }

    /// Another process is in the way; `message` says who and what to do.
    public static func busy(_ message: String) -> RegistryError { RegistryError(.busy, message) }

    // MARK: - Mapping SQLite's errors

    /// `error` as a ``RegistryError``: SQLite's result codes become kinds with a message of
    /// their own (busy ones saying who holds the file, where that can be told); a
    /// ``RegistryError`` or an error that is not SQLite's is returned unchanged.
    static func mapping(_ error: any Error, path: String) -> any Error {
        if let error = error as? UndecodableRow { return corrupt(path: path, detail: error.description) }
        if error is RowDecodingError { return corrupt(path: path, detail: "a row does not decode") }
        guard let error = error as? DatabaseError else { return error }
        switch error.resultCode {
        case .SQLITE_NOTADB:
            // A file that starts as SQLite's do and is refused as "not a database" has a damaged
            // header; one that never was SQLite is a wrong --db.
            return hasSQLiteHeader(path) ? corrupt(path: path, detail: "its header is unreadable") : notADatabase(path: path)
        case .SQLITE_CORRUPT:
            return corrupt(path: path, detail: "SQLite found a malformed page")
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return busy(path: path, holder: RegistryHolder.find(databasePath: path))
        case .SQLITE_READONLY, .SQLITE_PERM:
            return readOnly(path: path)
        case .SQLITE_CANTOPEN:
            return cannotCreate(path: path, reason: "SQLite cannot open it")
        case .SQLITE_FULL:
            return diskFull(path: path)
        case .SQLITE_IOERR:
            // A full disk often shows as a failed write (or a wal-index that cannot grow).
            if freeBytes(near: path).map({ $0 < 1 << 20 }) == true { return diskFull(path: path) }
            return ioError(path: path, detail: "SQLite extended code \(error.extendedResultCode.rawValue)")
        default:
            return RegistryError(.failed, "a query on the registry \(path) failed (SQLite code \(error.extendedResultCode.rawValue)); keep a copy of the file and report it")
        }
    }

    /// Whether the file at `path` starts with the 16 bytes every SQLite 3 database starts with.
    private static func hasSQLiteHeader(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: 16)) == Data("SQLite format 3\0".utf8)
    }

    /// Bytes available to this user on the file system holding `path` (its directory).
    private static func freeBytes(near path: String) -> UInt64? {
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) }.flatMap { $0.isEmpty ? "/" : $0 } ?? "."
        var info = statvfs()
        guard statvfs(directory, &info) == 0 else { return nil }
        return UInt64(info.f_bavail) * UInt64(info.f_frsize)
    }
}
