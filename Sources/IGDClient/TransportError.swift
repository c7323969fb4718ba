/// A failure to talk to a gateway at all: no connection, no answer in time, an answer too
/// large or cut short, a redirect. Kept apart from device faults (`UPnPError`) and protocol
/// violations (`ProtocolViolation`).
public struct TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case connectionRefused, connectTimeout, timeout, tooLarge, closedEarly, redirect, malformedResponse, network
    }

    public let kind: Kind
    public let url: String
    public let detail: String

    public init(_ kind: Kind, url: String, _ detail: String) {
        self.kind = kind
        self.url = url
        self.detail = detail
    }

    public var description: String { "\(url): \(detail)" }

    /// The gateway is gone or moved (refused, unreachable, no answer): worth rediscovering.
    public var suggestsGatewayMoved: Bool {
        [.connectionRefused, .connectTimeout, .timeout, .network].contains(kind)
    }
}
