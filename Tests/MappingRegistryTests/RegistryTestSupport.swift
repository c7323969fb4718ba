import Foundation
import IGDTestSupport
import Testing

/// A fresh directory under the system's temporary directory, removed (immutable flags first)
/// when `body` ends.
func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let template = NSTemporaryDirectory() + "/portkeeper-registry-XXXXXX"
    var bytes = Array(template.utf8CString)
    guard let made = mkdtemp(&bytes) else {
        throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
    }
    let directory = String(cString: made)
    defer {
        if (try? FileManager.default.removeItem(atPath: directory)) == nil {
            // A test may have left something immutable (chattr +i) if it failed half-way.
            _ = try? ProcessRunner.runBlocking("chattr", ["-R", "-i", directory], timeout: .seconds(10))
            try? FileManager.default.removeItem(atPath: directory)
        }
    }
    return try await body(directory)
}

/// The file's bytes, or nil when it does not exist.
func contents(_ path: String) -> Data? {
    FileManager.default.contents(atPath: path)
}

/// The permission bits of `path`.
func mode(_ path: String) throws -> mode_t {
    var info = stat()
    guard stat(path, &info) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    return info.st_mode & 0o7777
}

/// Modification time of `path` in nanoseconds, and its size.
func fingerprint(_ path: String) -> (mtime: Int, size: Int)? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    return (info.st_mtim.tv_sec * 1_000_000_000 + info.st_mtim.tv_nsec, Int(info.st_size))
}

func fileExists(_ path: String) -> Bool {
    FileManager.default.fileExists(atPath: path)
}

/// The repository's top-level directory (this file is Tests/MappingRegistryTests/…).
let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
