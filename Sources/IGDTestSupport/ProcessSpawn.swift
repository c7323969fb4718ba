#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// One of a child's output streams.
public enum StandardStreamName: Sendable {
    case stdout
    case stderr
}

/// Starting a child process with posix_spawn, its standard streams on pipes.
///
/// Foundation's `Process` is not used: on Linux it notices a child's exit through a socket the
/// child inherits, so a daemon started by the child (lab.sh starts miniupnpd) keeps the parent
/// from ever seeing the exit. Here the child gets only its three standard streams, runs in a
/// process group of its own (so a timeout can kill what it started), and is reaped by waitpid.
enum ProcessSpawn {
    /// A started child and the parent's ends of its pipes.
    struct Child {
        var pid: pid_t
        var stdout: Int32
        var stderr: Int32
        /// The write end of its standard input, when input is to be fed; else it reads /dev/null.
        var stdin: Int32?
    }

    /// Serialises pipe creation with spawning, so that no pipe end of one child leaks into
    /// another child started at the same moment from this library.
    private static let spawnLock = NSLock()

    /// Starts `path` with `arguments` (argv[1…]) and exactly `environment`. With `readerGone`,
    /// that stream's pipe has no reader from the start (its read end is closed before the child
    /// exists), so every write the child makes to it fails with EPIPE, as under `| head -1` once
    /// `head` has gone; the child's end reads as -1.
    static func spawn(path: String, arguments: [String], environment: [String: String], feedStdin: Bool,
                      readerGone: StandardStreamName? = nil) throws -> Child {
        spawnLock.lock()
        defer { spawnLock.unlock() }

        let outPipe = try makePipe()
        let errPipe = try makePipe()
        let inPipe = feedStdin ? try makePipe() : nil
        var parentEnds = [outPipe.read, errPipe.read]
        var childEnds = [outPipe.write, errPipe.write]
        var (stdoutRead, stderrRead) = (outPipe.read, errPipe.read)
        if let readerGone {
            let gone = readerGone == .stdout ? outPipe.read : errPipe.read
            close(gone)
            parentEnds.removeAll { $0 == gone }
            if readerGone == .stdout { stdoutRead = -1 } else { stderrRead = -1 }
        }
        if let inPipe {
            parentEnds.append(inPipe.write)
            childEnds.append(inPipe.read)
        }

        #if canImport(Darwin)
        var actions: posix_spawn_file_actions_t?
        var attributes: posix_spawnattr_t?
        #else
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        #endif
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
        }
        if let inPipe {
            posix_spawn_file_actions_adddup2(&actions, inPipe.read, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, outPipe.write, 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe.write, 2)
        addCloseFrom(3, to: &actions)

        var flags = Int32(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)
        #if canImport(Darwin)
        flags |= Int32(POSIX_SPAWN_CLOEXEC_DEFAULT)
        #endif
        posix_spawnattr_setflags(&attributes, Int16(truncatingIfNeeded: flags))
        posix_spawnattr_setpgroup(&attributes, 0)
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaultSignals = sigset_t()
        sigemptyset(&defaultSignals)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD] {
            sigaddset(&defaultSignals, signal)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)

        let argv = ([path] + arguments).map { strdup($0) }
        let envp = environment.map { strdup("\($0.key)=\($0.value)") }
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid = pid_t()
        let status = (argv + [nil]).withUnsafeBufferPointer { argvBuffer in
            (envp + [nil]).withUnsafeBufferPointer { envpBuffer in
                posix_spawn(
                    &pid, path, &actions, &attributes,
                    UnsafeMutablePointer(mutating: argvBuffer.baseAddress!),
                    UnsafeMutablePointer(mutating: envpBuffer.baseAddress!)
                )
            }
        }
        childEnds.forEach { close($0) }
        guard status == 0 else {
            parentEnds.forEach { close($0) }
            throw SpawnError(path: path, errno: status)
        }
        return Child(pid: pid, stdout: stdoutRead, stderr: stderrRead, stdin: inPipe?.write)
    }

    /// Waits for `pid` to exit and returns its status: the exit code, or 128 + the signal that
    /// killed it (as shells report it).
    static func waitForExit(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            guard errno == EINTR else { return -1 }
        }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    /// A pipe whose two ends are close-on-exec (dup2 into a child's 0/1/2 clears that there).
    private static func makePipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw SpawnError(path: "pipe()", errno: errno) }
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        return (fds[0], fds[1])
    }

    #if canImport(Darwin)
    private static func addCloseFrom(_ lowest: Int32, to actions: inout posix_spawn_file_actions_t?) {
        // POSIX_SPAWN_CLOEXEC_DEFAULT closes everything not set up explicitly.
    }
    #else
    /// Makes the child close every descriptor from `lowest` up, when the C library can
    /// (glibc 2.34+: posix_spawn_file_actions_addclosefrom_np, looked up at run time because
    /// Swift's Glibc module hides it behind _GNU_SOURCE).
    private static func addCloseFrom(_ lowest: Int32, to actions: inout posix_spawn_file_actions_t) {
        typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else {
            return
        }
        let addCloseFrom = unsafeBitCast(symbol, to: AddCloseFrom.self)
        _ = addCloseFrom(&actions, lowest)
    }
    #endif
}

/// posix_spawn (or pipe) failed.
struct SpawnError: Error, CustomStringConvertible {
    var path: String
    var errno: Int32

    var description: String {
        "cannot start \(path): \(String(cString: strerror(errno)))"
    }
}
