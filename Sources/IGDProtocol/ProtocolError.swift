/// A gateway sent something that is not what the UPnP specifications allow.
///
/// Kept apart from transport failures (IGDClient) and device faults (``UPnPError``).
public struct ProtocolViolation: Error, Sendable, Equatable, CustomStringConvertible {
    /// What the gateway sent that is not allowed, in one line.
    public let description: String

    /// A violation described by `description`.
    public init(_ description: String) {
        self.description = description
    }
}
