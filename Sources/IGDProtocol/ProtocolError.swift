/// A gateway sent something that is not what the UPnP specifications allow.
///
/// Kept apart from transport failures (IGDClient) and device faults (``UPnPError``).
public struct ProtocolViolation: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
