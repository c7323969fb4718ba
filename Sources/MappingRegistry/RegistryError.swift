import Foundation
import GRDB

/// Why the registry could not do something: one line saying what happened and what to do.
///
/// Match on ``kind``; show ``description`` (it is ``message``) to the user.
public struct RegistryError: Error, Sendable, Hashable, CustomStringConvertible {
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
        /// The file is damaged, or its content contradicts itself.
        case corrupt
    }

    public let kind: Kind
    /// One line: what happened and what to do.
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        // One line, whatever the pieces put together contained.
        self.message = message.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    public var description: String { message }

    // MARK: - Opening the registry

    /// "PATH is not a database …".
    public static func notADatabase(path: String) -> RegistryError {
        RegistryError(.notADatabase, "\(path) is not a portkeeper registry (file is not a database); move it aside or use another --db")
    }

    /// "PATH was written by a newer portkeeper (migration X unknown) …".
    public static func newerVersion(path: String, unknownMigration: String) -> RegistryError {
        RegistryError(.newerVersion, "\(path) was written by a newer portkeeper (migration \(unknownMigration) unknown); upgrade portkeeper or use another --db")
    }

    /// "cannot write PATH: read-only …"; `path` is the file or the directory that cannot be written.
    public static func readOnly(path: String) -> RegistryError {
        RegistryError(.readOnly, "cannot write \(path): read-only; make it writable or use another --db")
    }

    /// "cannot create PATH: REASON …".
    public static func cannotCreate(path: String, reason: String) -> RegistryError {
        RegistryError(.cannotCreate, "cannot create \(path): \(reason); fix the path or use another --db")
    }

    /// The database file stayed locked by another process for longer than the busy timeout.
    public static func busy(path: String) -> RegistryError {
        RegistryError(.busy, "\(path) is busy: another portkeeper kept it locked too long; try again later")
    }

    /// Another process holds the reconcile lock.
    public static func reconciling(pid: Int32?) -> RegistryError {
        RegistryError(.busy, "another portkeeper is reconciling this registry\(pid.map { " (pid \($0))" } ?? ""); try again later")
    }

    /// "PATH is corrupt (DETAIL) …".
    public static func corrupt(path: String, detail: String) -> RegistryError {
        RegistryError(.corrupt, "\(path) is corrupt (\(detail)); restore it from a backup, or move it aside and start a new one")
    }

    // MARK: - Using the registry

    /// Something named does not exist; `message` says what and how to list what exists.
    public static func notFound(_ message: String) -> RegistryError { RegistryError(.notFound, message) }

    /// Bad input; `message` says what is wrong and what to give instead.
    public static func invalid(_ message: String) -> RegistryError { RegistryError(.invalid, message) }

    /// The registry's content contradicts itself; `message` says how.
    public static func corrupt(_ message: String) -> RegistryError { RegistryError(.corrupt, message) }

    /// Another process is in the way; `message` says who and what to do.
    public static func busy(_ message: String) -> RegistryError { RegistryError(.busy, message) }

    // MARK: - Mapping SQLite's errors

    /// `error` as a ``RegistryError`` when it is one of SQLite's errors about the file itself
    /// (not a database, corrupt, busy, read-only, cannot open); otherwise `error` unchanged.
    static func mapping(_ error: any Error, path: String) -> any Error {
        guard let error = error as? DatabaseError else { return error }
        switch error.resultCode {
        case .SQLITE_NOTADB:
            return notADatabase(path: path)
        case .SQLITE_CORRUPT:
            return corrupt(path: path, detail: error.message ?? "SQLite error \(error.extendedResultCode.rawValue)")
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return busy(path: path)
        case .SQLITE_READONLY, .SQLITE_PERM:
            return readOnly(path: path)
        case .SQLITE_CANTOPEN:
            return cannotCreate(path: path, reason: error.message ?? "SQLite cannot open it")
        case .SQLITE_FULL:
            return cannotCreate(path: path, reason: "the disk is full")
        default:
            return error
        }
    }
}
