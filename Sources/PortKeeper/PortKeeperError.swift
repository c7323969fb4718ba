/// A failure the user can act on: what happened, and what to try.
public struct PortKeeperError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public let hint: String?

    public init(_ message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }

    public var description: String {
        guard let hint else { return message }
        return "\(message); \(hint)"
    }
}
