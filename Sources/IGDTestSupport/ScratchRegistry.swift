import Foundation

/// A registry of one test's own: a file in a fresh temporary directory, removed with it
/// (the file, its -wal, -shm and .lock).
public struct ScratchRegistry: Sendable {
    /// The directory made for this registry alone.
    public let directory: String

    /// Makes a fresh directory named after `label` (with a random suffix).
    public init(_ label: String) throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("portkeeper-\(label)-\(UInt64.random(in: 0...UInt64.max))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// The registry file (absent until something creates it).
    public var path: String { directory + "/registry.sqlite" }

    /// Runs the built portkeeper with `--db` this registry.
    /// `takingTurns`: for tables of many command lines run in parallel (ProcessRunner.slots);
    /// `readerGone`: that output stream has no reader (``StandardStreamName``).
    public func portkeeper(_ arguments: [String], timeout: Duration = .seconds(90), takingTurns: Bool = false,
                           readerGone: StandardStreamName? = nil) async throws -> ProcessResult {
        try await PortKeeperCLI.run(arguments + ["--db", path], timeout: timeout, takingTurns: takingTurns, readerGone: readerGone)
    }

    /// The bytes of the registry file and of its -wal file.
    public struct Files: Equatable, Sendable {
        /// The registry file's bytes (nil: absent).
        public var db: Data?
        /// The -wal file's bytes (nil: absent).
        public var wal: Data?
    }

    /// The bytes of the registry file and of its -wal file (nil: absent).
    public func files() -> Files {
        Files(db: FileManager.default.contents(atPath: path), wal: FileManager.default.contents(atPath: path + "-wal"))
    }

    /// A revision as `history --json` prints it.
    public struct Revision: Decodable, Sendable {
        /// A change as `history --json` prints it.
        public struct Change: Decodable, Sendable {
            public struct Key: Decodable, Sendable, CustomStringConvertible {
                public var `protocol`: String
                public var externalPort: UInt16
                /// "8080/tcp", as the text output writes a key.
                public var description: String { "\(externalPort)/\(`protocol`.lowercased())" }
            }
            public var kind: String
            public var key: Key?
            public var summary: String
            /// The sentence the text output shows.
            public var detail: String { summary }
        }
        public var revision: Int
        public var command: String
        public var summary: String
        public var changes: [Change]
    }

    /// `history --json` (all of it), newest first.
    public func history() async throws -> [Revision] {
        let result = try await portkeeper(["history", "--json", "--limit", "100000"])
        try result.check(["portkeeper", "history"])
        struct Document: Decodable { var revisions: [Revision] }
        return try JSONDecoder().decode(Document.self, from: Data(result.stdout.utf8)).revisions
    }

    /// A declared mapping as `mappings --json` prints it.
    public struct Declared: Decodable, Sendable {
        public var `protocol`: String
        public var externalPort: UInt16
        public var internalClient: String
        public var internalPort: UInt16
        public var description: String
        public var leaseDuration: UInt32
    }

    /// `mappings --json`.
    public func mappings() async throws -> [Declared] {
        let result = try await portkeeper(["mappings", "--json"])
        try result.check(["portkeeper", "mappings"])
        struct Document: Decodable {
            struct Item: Decodable { var mapping: Declared }
            var mappings: [Item]
        }
        return try JSONDecoder().decode(Document.self, from: Data(result.stdout.utf8)).mappings.map(\.mapping)
    }

    /// `PRAGMA integrity_check`, read through a read-only connection.
    public func integrityCheck() async throws -> String {
        try await SQLiteShell.query(path, "PRAGMA integrity_check")
    }

    /// Operations journaled and never completed: outcome still 'pending' (or 'unknown…').
    public func unresolvedOperations() async throws -> [String] {
        try await SQLiteShell.query(path, "SELECT action || ' ' || external_port || '/' || lower(protocol) || ' ' || outcome FROM operation WHERE outcome = 'pending' OR outcome LIKE 'unknown%' ORDER BY id")
            .split(separator: "\n").map(String.init)
    }

    /// Removes the registry's files and its directory.
    public func remove() {
        for suffix in ["", "-wal", "-shm", ".lock"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        try? FileManager.default.removeItem(atPath: directory)
    }
}
