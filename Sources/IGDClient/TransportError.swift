/// A failure to talk to a gateway at all: no connection, no answer in time, an answer too
/// large or cut short, a redirect. Kept apart from device faults (`UPnPError`) and protocol
/// violations (`ProtocolViolation`).
public struct TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of transport failure it is.
    public enum Kind: String, Sendable, CaseIterable {
        /// Nobody listens at the gateway's address and port (ECONNREFUSED).
        case connectionRefused
        /// No connection within the connect timeout (or the kernel's, ETIMEDOUT).
        case connectTimeout
        /// Connected, but no complete answer in time.
        case timeout
        /// The answer was larger than the body cap.
        case tooLarge
        /// The connection closed before the answer was complete.
        case closedEarly
        /// The answer was a redirect, which is never followed.
        case redirect
        /// The answer was not HTTP/1.1 as the codec reads it.
        case malformedResponse
        /// No route to the gateway or its network (EHOSTUNREACH, ENETUNREACH, EHOSTDOWN, ENETDOWN).
        case unreachable
        /// Any other failure to connect or talk.
        case network
    }

    /// What failed, to switch on.
    public let kind: Kind
    /// The URL the request was for.
    public let url: String
    /// What happened, in words (the system's error, the limit that was hit).
    public let detail: String
    /// The time that ran out, for the timeouts.
    public let limit: Duration?
    /// The SOAP action (or "the description") the request was for, when known.
    public var action: String?

    /// A failure of `kind` talking to `url`, described by `detail`.
    public init(_ kind: Kind, url: String, _ detail: String, limit: Duration? = nil, action: String? = nil) {
        self.kind = kind
        self.url = url
        self.detail = detail
        self.limit = limit
        self.action = action
    }

    public var description: String {
        switch (kind, action, limit) {
        case (.timeout, let action?, let limit?):
            return "the gateway at \(url) did not answer \(action) within \(limit.secondsText)"
        case (.connectTimeout, let action?, let limit?):
            return "the gateway at \(url) did not accept a connection within \(limit.secondsText) (for \(action))"
        case (_, let action?, _):
            return "\(action) to \(url): \(detail)"
        default:
            return "\(url): \(detail)"
        }
    }

    /// The gateway is gone or moved (refused, unreachable, no answer): worth rediscovering.
    public var suggestsGatewayMoved: Bool {
        [.connectionRefused, .connectTimeout, .timeout, .unreachable, .network].contains(kind)
    }
}
