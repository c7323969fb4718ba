import IGDClient
import PortKeeperModel

/// A failure, said as what happened.
///
/// ``kind`` is what a caller switches on (an exit code, a JSON `code`); ``context`` says
/// precisely what went wrong, typed, so that a front end can say what to try in its own
/// words (the CLI names its flags and commands, which the library never does); ``hint`` is
/// advice that holds whatever the front end ("save it as UTF-8").
public struct PortKeeperError: Error, Sendable, CustomStringConvertible {
    /// The families of failure, few enough to switch on. Each has a stable ``code``.
    public enum Kind: String, Sendable, CaseIterable {
        /// What the user gave (an argument, a declaration file) is not acceptable.
        case invalidInput
        /// Something named does not exist: a declared mapping, a revision, a gateway by UDN,
        /// any gateway at all.
        case notFound
        /// Several things match where one is needed (several gateways answered).
        case ambiguous
        /// The port is taken: declared with another target, or held on the gateway by another client.
        case conflict
        /// The gateway cannot be reached: connection refused, no route, no connection in time.
        case gatewayUnreachable
        /// The gateway accepted the connection and did not answer in time.
        case gatewayTimeout
        /// The command's own deadline ran out (the gateway kept answering slowly, or not at all).
        case deadline
        /// The gateway answered with a refusal: a UPnP fault, or an HTTP error without one.
        case gatewayRefused
        /// The gateway does not offer what was asked.
        case unsupported
        /// The gateway's answer was unsafe or broken (too large, cut short, malformed, against the specification).
        case gatewayInvalidAnswer
        /// This machine cannot take part: no interface to search on, no address facing the gateway.
        case localNetwork
        /// The registry's content does not fit what portkeeper expects of it.
        case registry
        /// Anything else: a failure portkeeper did not foresee.
        case unexpected

        /// The stable name of the kind for scripts and JSON, lowercase with hyphens
        /// ("invalid-input", "gateway-unreachable"). Never changed once released.
        public var code: String {
            switch self {
            case .invalidInput: "invalid-input"
            case .notFound: "not-found"
            case .ambiguous: "ambiguous"
            case .conflict: "conflict"
            case .gatewayUnreachable: "gateway-unreachable"
            case .gatewayTimeout: "gateway-timeout"
            case .deadline: "deadline"
            case .gatewayRefused: "gateway-refused"
            case .unsupported: "unsupported"
            case .gatewayInvalidAnswer: "gateway-invalid-answer"
            case .localNetwork: "local-network"
            case .registry: "registry"
            case .unexpected: "unexpected"
            }
        }
    }

    /// Precisely what went wrong where a front end has something of its own to say about it
    /// (a flag to add, a command to run); ``none`` where it has not.
    public enum Context: Sendable, Equatable {
        /// Nothing more to say.
        case none
        /// A client address that names no machine, where this host may be meant (0.0.0.0/8).
        case clientUnspecified
        /// A loopback client address: the router itself.
        case clientLoopback
        /// A client address on none of this machine's subnets, which the user may confirm.
        case clientOffSubnet
        /// A gateway reference that looks like a URL and is not one portkeeper follows.
        case gatewayReference
        /// The key is declared with another target.
        case alreadyDeclared(MappingKey)
        /// The key is not declared.
        case notDeclared
        /// The revision concerns no gateway (it may not exist).
        case revisionWithoutGateway
        /// Several gateways answered and none was named.
        case severalGateways
        /// The search for gateways could not be made.
        case discoveryFailed
        /// Devices answered and none is a usable gateway.
        case noUsableGateway
        /// No gateway answered the search at all.
        case noGatewayAnswered
        /// The command's deadline ran out.
        case deadline
        /// Talking to the gateway failed at the transport (refused, timed out, broken answer).
        case transport(TransportError.Kind)
        /// The gateway answered with this UPnP fault code.
        case fault(Int)
        /// The gateway's answer broke the UPnP specification.
        case protocolViolation
        /// The description URL answered this HTTP status (404: a wrong path).
        case descriptionNotServed(status: Int)
        /// A reconcile stopped sending because the gateway stopped answering.
        case reconcileInterrupted
        /// A gateway known over UPnP IGD answers it no more but answers PCP or NAT-PMP, over
        /// which the registry now keeps it: what needed UPnP (its description) can be asked
        /// again the other way.
        case upnpGone
    }

    /// What kind of failure it is: switch on this, never on the message.
    public let kind: Kind
    /// What happened, in one line.
    public let message: String
    /// Advice that names no front end's flags or commands, if any.
    public let hint: String?
    /// The details a front end needs to say what to try (a fault code, a transport failure…).
    public let context: Context

    /// An error of `kind` saying `message` in one line, with advice any front end could give.
    public init(_ kind: Kind, _ message: String, hint: String? = nil, context: Context = .none) {
        self.kind = kind
        self.message = message
        self.hint = hint
        self.context = context
    }

    /// A failure of no particular kind (``Kind/unexpected``): for callers that only have words.
    public init(_ message: String, hint: String? = nil) {
        self.init(.unexpected, message, hint: hint)
    }

    /// What happened, with the library's own advice where it has some.
    public var description: String {
        guard let hint else { return message }
        return "\(message); \(hint)"
    }
}
