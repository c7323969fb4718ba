import Foundation
import IGDProtocol
import PortKeeper

/// Writes a command's output to stdout and flushes it at once, so that what a command printed
/// is out before the registry closes (a process killed while SQLite checkpoints on close must
/// not lose it).
func emit(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}
