import Foundation

/// The immutable attribute (`chattr +i`): read-only even for root.
public enum Immutable {
    /// Whether chattr works on the temporary directory's file system (as root).
    public static let works: Bool = {
        let probe = FileManager.default.temporaryDirectory.appendingPathComponent("portkeeper-chattr-\(UInt64.random(in: 0...UInt64.max))").path
        guard FileManager.default.createFile(atPath: probe, contents: Data()) else { return false }
        defer { try? FileManager.default.removeItem(atPath: probe) }
        guard (try? ProcessRunner.runBlocking("chattr", ["+i", probe], timeout: .seconds(10)))?.succeeded == true else { return false }
        let blocked = !FileManager.default.isWritableFile(atPath: probe) || (try? Data("x".utf8).write(to: URL(fileURLWithPath: probe))) == nil
        _ = try? ProcessRunner.runBlocking("chattr", ["-i", probe], timeout: .seconds(10))
        return blocked
    }()

    /// Makes `path` immutable.
    public static func set(_ path: String) async throws {
        try await ProcessRunner.run("chattr", ["+i", path], timeout: .seconds(10)).check(["chattr", "+i", path])
    }

    /// Undoes ``set(_:)``; for `defer`, so it never throws (doing it twice does no harm).
    public static func clear(_ path: String) {
        _ = try? ProcessRunner.runBlocking("chattr", ["-i", path], timeout: .seconds(10))
    }
}
