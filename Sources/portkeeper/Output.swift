import Foundation
import IGDProtocol
import PortKeeper

#if canImport(Glibc)
import Glibc
#endif

/// Writes a command's output to stdout and flushes it at once, so that what a command printed
/// is out before the registry closes (a process killed while SQLite checkpoints on close must
/// not lose it).
func emit(_ text: String) {
    StandardStream.output.write(text + "\n")
}

/// stdout and stderr, written with write(2) rather than `FileHandle.write(_:)`, which traps on
/// any error: `portkeeper discover | head -1` made the process die with SIGILL and a crash report
/// once `head` had gone, because NIO leaves SIGPIPE ignored and the write failed with EPIPE.
///
/// A reader that has gone from stdout ends the process the way it ends `cat` or `upnpc`: by
/// SIGPIPE, silent, status 141 in the shell. By then the command's work is done and committed
/// (output comes after it), so nothing is lost but the text nobody reads. A reader that has gone
/// from stderr is ignored: there is no one left to tell.
struct StandardStream: Sendable {
    let descriptor: Int32

    static let output = StandardStream(descriptor: STDOUT_FILENO)
    static let error = StandardStream(descriptor: STDERR_FILENO)

    func write(_ text: String) {
        let bytes = Array(text.utf8)
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written >= 0 {
                    offset += written
                    continue
                }
                switch errno {
                case EINTR, EAGAIN:
                    continue
                case EPIPE where descriptor == STDOUT_FILENO:
                    Self.endAsByBrokenPipe()
                default:
                    // EPIPE on stderr, a full disk, a closed descriptor: nothing better to do with
                    // the text than drop it; the command's outcome stands in its exit status.
                    return
                }
            }
        }
    }

    /// Restores SIGPIPE's default action and raises it, so the shell sees what it sees of any
    /// well-behaved filter whose reader left.
    private static func endAsByBrokenPipe() -> Never {
        signal(SIGPIPE, SIG_DFL)
        raise(SIGPIPE)
        // Only reached if SIGPIPE is blocked in this thread's mask.
        exit(128 + SIGPIPE)
    }
}
