import IGDClient
import IGDProtocol
import MappingRegistry
import PortKeeperModel

/// The one place a library error becomes a ``PortKeeperError``: what failed and where, its
/// kind, and the context a front end needs to say what to try (the CLI's words are its own;
/// see Sources/portkeeper/ErrorRendering.swift). Foundation's texts and internal outcome
/// codes never pass through as they are.
public enum Failure {
    /// Turns a library error into one line saying what happened.
    /// - Parameter what: what was being done, naming the gateway ("listing the mappings of Router").
    public static func explain(_ error: any Error, doing what: String) -> PortKeeperError {
        switch error {
        case let error as PortKeeperError:
            return error
        case let error as DeadlineExceeded:
            return PortKeeperError(.deadline, "\(what) failed: \(error)", context: .deadline)
        case let error as TransportError:
            return PortKeeperError(kind(of: error.kind), "\(what) failed: \(clean(error.description))",
                                   hint: error.kind == .timeout ? "the gateway is slow or hung; try again, or restart the router" : nil,
                                   context: .transport(error.kind))
        case let error as UPnPError:
            return PortKeeperError(error.code == UPnPError.conflictInMappingEntry ? .conflict : .gatewayRefused,
                                   "\(what) failed: the gateway answered \(fault(error.code, deviceDescription: error.deviceDescription))",
                                   hint: hint(forFault: error.code), context: .fault(error.code))
        case let error as PortControlRefusal:
            return PortKeeperError(refusalKind(error), "\(what) failed: the gateway answered \(error.result)", hint: hint(forRefusal: error))
        case let error as DescriptionNotServed:
            return PortKeeperError(error.status == 404 || error.status == 410 ? .notFound : .gatewayRefused, "\(what) failed: \(error)",
                                   context: .descriptionNotServed(status: error.status))
        case let error as UnexpectedHTTPStatus:
            return PortKeeperError(.gatewayRefused, "\(what) failed: the gateway answered \(error.action) with HTTP \(error.status) and no UPnP fault",
                                   hint: "the gateway could not do it and did not say why; try again, or restart the router")
        case let error as ActionUnavailable:
            return PortKeeperError(.unsupported, "\(what) failed: \(error)", hint: "this gateway does not offer it")
        case let error as InvalidPortMappingEntry:
            return PortKeeperError(.gatewayInvalidAnswer, "\(what) failed: the gateway listed an \(error)",
                                   hint: "the entry is ignored; check the router's port-forwarding page")
        case let error as ProtocolViolation:
            return PortKeeperError(.gatewayInvalidAnswer, "\(what) failed: \(clean(error.description))", context: .protocolViolation)
        default:
            return PortKeeperError(.unexpected, "\(what) failed: \(clean("\(error)"))")
        }
    }

    /// The kind of any error the library throws, to count or switch on: a registry's is
    /// ``PortKeeperError/Kind/registry``, any other's the kind ``explain(_:doing:)`` gives it.
    public static func kind(of error: any Error) -> PortKeeperError.Kind {
        error is RegistryError ? .registry : explain(error, doing: "").kind
    }

    /// The kind of a PCP or NAT-PMP refusal.
    static func refusalKind(_ refusal: PortControlRefusal) -> PortKeeperError.Kind {
        switch (refusal.protocol, refusal.code) {
        case (.pcp, 11): .conflict              // CANNOT_PROVIDE_EXTERNAL
        case (.pcp, 1), (.pcp, 4), (.pcp, 9), (.natPMP, 1), (.natPMP, 5): .unsupported
        default: .gatewayRefused
        }
    }

    /// What to try after a PCP (RFC 6887 §7.4) or NAT-PMP (RFC 6886 §3.5) result code.
    static func hint(forRefusal refusal: PortControlRefusal) -> String {
        switch (refusal.protocol, refusal.code) {
        case (.pcp, 2), (.natPMP, 2):
            "the gateway's policy refuses it, or another client holds the mapping; check the router's PCP/NAT-PMP settings"
        case (.pcp, 3), (.pcp, 6):
            "the gateway could not read the request; please report it with `-v` output"
        case (.pcp, 1), (.natPMP, 1):
            "the gateway does not speak this protocol version; choose another with --protocol"
        case (.pcp, 4), (.pcp, 5), (.natPMP, 5):
            "the gateway does not support this request; choose another protocol with --protocol"
        case (.pcp, 7), (.natPMP, 3):
            "the gateway has no working Internet connection now; portkeeper tries again later (watch), or try again"
        case (.pcp, 8), (.pcp, 10), (.natPMP, 4):
            "the gateway has no room for more mappings now; remove some, or try again later"
        case (.pcp, 9):
            "the gateway does not map this protocol"
        case (.pcp, 11):
            "the external port cannot be had; declare another port"
        case (.pcp, 12):
            "a NAT between this host and the gateway changes the request's address (double NAT?); map on the gateway nearest this host"
        case (.pcp, 13):
            "too many remote peers for one mapping"
        default:
            "the gateway refused with a code portkeeper does not know; try again, or restart the router"
        }
    }

    /// The kind of a transport failure: no connection, no answer in time, or a bad answer.
    static func kind(of transport: TransportError.Kind) -> PortKeeperError.Kind {
        switch transport {
        case .connectionRefused, .connectTimeout, .unreachable, .network: .gatewayUnreachable
        case .timeout: .gatewayTimeout
        case .tooLarge, .malformedResponse, .closedEarly, .redirect: .gatewayInvalidAnswer
        }
    }

    /// "718 ConflictInMappingEntry", with what the device said when it says more.
    public static func fault(_ code: Int, deviceDescription: String? = nil) -> String {
        let error = UPnPError(code: code, deviceDescription: deviceDescription)
        var text = "\(code) \(error.name ?? "(a code the UPnP specifications do not name)")"
        if let said = deviceDescription.map(clean), !said.isEmpty, said != error.name {
            text += " (\(String(said.prefix(80))))"
        }
        return text
    }

    /// What to try after a device fault, where that needs no front end's flag or command
    /// (the CLI adds its own for the others: 718, 725, 402, 724…).
    public static func hint(forFault code: Int) -> String? {
        switch code {
        case UPnPError.actionNotAuthorized:
            return "enable UPnP port mapping (or 'allow changes') in the router's settings"
        case UPnPError.noSuchEntryInArray:
            return "the mapping is not on the router"
        case UPnPError.actionFailed:
            return "the router could not do it; try again, or restart the router"
        case 728:
            return "the router's mapping table is full: remove mappings you no longer need"
        case 729:
            return "the router uses this port for something else (its own port forwarding?): choose another port"
        case 715, 716, 726, 727, 732:
            return "this router does not accept that wildcard; name the host and ports exactly"
        default:
            return nil
        }
    }

    /// A journaled outcome in words: "the gateway answered 718 ConflictInMappingEntry".
    public static func outcome(_ outcome: OperationOutcome) -> String {
        switch outcome {
        case .ok: return "done"
        case .pending: return "not known yet"
        case .upnp(let code): return "the gateway answered \(fault(code))"
        case .unknown(let why): return why.isEmpty ? "no answer; the outcome is learned at the next reconcile" : "no usable answer (\(clean(why)))"
        case .failed(let why): return clean(why)
        }
    }

    /// Removes Foundation's raw error texts ("The operation couldn't be completed.
    /// (NSXMLParserErrorDomain error 5.)"), which say nothing to a user.
    public static func clean(_ text: String) -> String {
        var text = text
        let patterns = [
            #/The operation could(?:n’t|n't| not) be completed\.\s*(?:\([A-Za-z.]+ error -?\d+\.\))?/#,
            #/\(?[A-Za-z.]+ErrorDomain (?:error|Code=?) ?-?\d+\.?\)?/#,
        ]
        for pattern in patterns {
            text = text.replacing(pattern, with: "")
        }
        // What is left around the removed text: "malformed XML (, line 1)" → "malformed XML (line 1)".
        text = text.replacing("(, ", with: "(").replacing(" ()", with: "").replacing("()", with: "").replacing("\n", with: " ")
        return text
    }
}
