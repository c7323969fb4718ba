#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A metrics file for node_exporter's textfile collector, replaced whole each time: written
/// to a hidden file beside it (which the collector's `*.prom` never matches), then renamed over
/// it, so that a scrape reads the old text or the new, never half of one.
public struct MetricsTextfile: Sendable {
    /// Why the file could not be written, in one line.
    public struct WriteError: Error, CustomStringConvertible, Equatable {
        /// The metrics file.
        public let path: String
        /// What the system said (`strerror`), and about which file when it is the hidden one.
        public let reason: String
        public var description: String { "cannot write the metrics file \(path): \(reason)" }

        public init(path: String, reason: String) {
            self.path = path
            self.reason = reason
        }
    }

    public let path: String
    /// The file written first, in the same directory (a rename across file systems is a copy).
    public let temporaryPath: String

    public init(path: String) {
        self.path = path
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        temporaryPath = "\(directory).\(name).tmp"
    }

    /// Replaces the file's content with `bytes`, readable by everyone (node_exporter runs as
    /// another user; watch's own umask would make it private).
    /// - Throws: ``WriteError`` naming the file and the system's reason; the old file stays.
    public func write(_ bytes: [UInt8]) throws(WriteError) {
        let descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard descriptor >= 0 else { throw failure(temporaryPath) }
        var written = 0
        let ok = bytes.withUnsafeBytes { buffer -> Bool in
            while written < buffer.count, let base = buffer.baseAddress {
                let count = systemWrite(descriptor, base + written, buffer.count - written)
                if count < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                written += count
            }
            return fchmod(descriptor, 0o644) == 0
        }
        guard ok else {
            let error = failure(temporaryPath)
            close(descriptor)
            unlink(temporaryPath)
            throw error
        }
        close(descriptor)
        guard rename(temporaryPath, path) == 0 else {
            let error = failure(path)
            unlink(temporaryPath)
            throw error
        }
    }

    private func failure(_ file: String) -> WriteError {
        let reason = String(cString: strerror(errno))
        return WriteError(path: path, reason: file == path ? reason : "\(reason) (writing \(file) beside it)")
    }
}

/// write(2), out of reach of ``MetricsTextfile/write(_:)``'s own name.
private func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}
