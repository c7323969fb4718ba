/// A datagram that is not a NAT-PMP or PCP answer portkeeper can take: too short or too long,
/// another version, the response bit missing, an answer to another request (opcode, nonce,
/// protocol or internal port), an option running past the end, a grant that grants nothing.
///
/// The one error this module throws. RFC 6886 §3.1 and RFC 6887 §8.3 tell a client to discard
/// such a datagram and keep waiting for the real answer; the description says, in one line,
/// what was wrong, for the log. Result codes the gateway sends are not violations: they are
/// values (``NATPMP/ResultCode``, ``PCP/ResultCode``) in a well-formed answer.
public struct PCPViolation: Error, Sendable, Equatable, CustomStringConvertible {
    /// What the datagram had that is not allowed, in one line.
    public let description: String

    /// A violation described by `description`.
    public init(_ description: String) {
        self.description = description
    }
}
