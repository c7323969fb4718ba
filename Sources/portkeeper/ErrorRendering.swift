import ArgumentParser
import Foundation
import IGDProtocol
import Logging
import MappingRegistry
import PortKeeper

// The one file where a failure becomes what the user reads. The library says what happened
// (a ``PortKeeperError`` or ``RegistryError``: a kind, a message, a typed context); here the
// CLI adds what to try in its own words, naming its flags and commands, and prints one line.

/// Runs a command body, printing any failure on stderr (one line; under `json`, one line of
/// JSON, ``ErrorDocument``) and exiting with the code its kind has (``ExitStatus``).
func reportingFailures(verbose: Bool, json: Bool = false, defaultLevel: Logger.Level = .warning, _ body: () async throws -> Void) async throws {
    setUpLogging(verbose: verbose, defaultLevel: defaultLevel)
    Problems.json = json
    do {
        try await body()
    } catch let error as ExitCode {
        throw error
    } catch {
        let doing = CommandLine.arguments.dropFirst().first ?? "the command"
        if json {
            Problems.errorDocument(ErrorRendering.json(error, doing: doing))
        } else if let input = error as? InputError {
            // A declaration file to fix: where and what.
            Problems.error(input.description)
        } else {
            Problems.error(ErrorRendering.line(error, doing: doing))
        }
        throw ExitStatus.of(error)
    }
}

/// The exit codes, one meaning each in every command (README, "Exit codes"; the root help):
/// 0 done and in sync, 1 an error, 2 changes pending (`plan --exit-code`, `reconcile --dry-run
/// --exit-code`), 3 done but not in sync (a port held by another client, an operation the
/// router refused), 64 a usage error; then, from sysexits.h, 65 (EX_DATAERR) the registry is
/// damaged, 75 (EX_TEMPFAIL) it is busy, 78 (EX_CONFIG) it was written by a newer portkeeper.
enum ExitStatus {
    static let failure = ExitCode.failure
    static let changesPending = ExitCode(2)
    static let notInSync = ExitCode(3)
    static let usage = ExitCode.validationFailure

    /// The exit code of a failure. A usage error (64) is one the command line or the file must
    /// change to fix, whatever the network does: a value refused, a declaration file with an
    /// error, a gateway, revision or declared mapping named that does not exist, several
    /// gateways where one must be named, a port declared already for another target.
    static func of(_ error: any Error) -> ExitCode {
        switch error {
        case is InputError, is ValidationError:
            return usage
        case let error as RegistryError:
            switch error.kind {
            case .corrupt: return ExitCode(65)
            case .busy: return ExitCode(75)
            case .newerVersion: return ExitCode(78)
            case .invalid: return usage
            case .notFound:
                switch error.context {
                case .unknownGateway, .unknownRevision, .severalGatewaysKnown: return usage
                default: return failure
                }
            default: return failure
            }
        case let error as PortKeeperError:
            if error.kind == .invalidInput { return usage }
            switch error.context {
            case .alreadyDeclared, .notDeclared, .revisionWithoutGateway, .severalGateways, .gatewayReference: return usage
            default: return failure
            }
        default:
            return failure
        }
    }
}

/// A failure in the CLI's words: what happened, then what to try.
enum ErrorRendering {
    /// One line for any error a command body throws; `what` says what was being done when the
    /// error is not one of portkeeper's own.
    static func line(_ error: any Error, doing what: String) -> String {
        switch error {
        case let error as RegistryError: line(error)
        default: line(Failure.explain(error, doing: what))
        }
    }

    /// "what happened; what to try": the CLI's advice for the context, else the library's hint.
    static func line(_ error: PortKeeperError) -> String {
        guard let advice = advice(error.context) ?? error.hint else { return error.message }
        return "\(error.message); \(advice)"
    }

    /// What to try, where the CLI has something of its own to say (a flag, a command).
    static func advice(_ context: PortKeeperError.Context) -> String? {
        switch context {
        case .none:
            return nil
        case .clientUnspecified:
            return "leave out the host (--to :PORT) for this machine, or give another machine's LAN address"
        case .clientLoopback:
            return "leave out the host (--to :PORT) for this machine"
        case .clientOffSubnet:
            return "check the address; if the machine is reachable through the router all the same, add --allow-remote-client"
        case .gatewayReference:
            return "give the description URL as http://IPv4:PORT/path, as `portkeeper discover` prints it"
        case .descriptionNotServed(let status):
            return status == 404 || status == 410
                ? "check the URL: `portkeeper discover` prints each gateway's description URL"
                : "the router would not serve its description; try again, or restart the router"
        case .alreadyDeclared(let key):
            return "remove it first with `portkeeper remove \(key.externalPort)/\(key.protocol.rawValue.lowercased())`"
        case .notDeclared:
            return "`portkeeper mappings` lists what is"
        case .revisionWithoutGateway:
            return "`portkeeper history` lists revisions and their gateways"
        case .severalGateways:
            return "choose one with --gateway UDN (with double NAT, the one whose external address is public is the outer router)"
        case .discoveryFailed:
            return "name the interface facing the router with --interface, or give the description URL with --location"
        case .noUsableGateway:
            return "check the router's UPnP settings, or give another description URL with --location"
        case .noGatewayAnswered:
            return "check that UPnP is enabled on the router, that no firewall here blocks UDP port 1900 replies, and that you search on the interface facing the router (--interface NAME); or give its description URL with --location"
        case .deadline:
            return "the gateway is slow or hung; try again, give more time with --deadline SECONDS, or restart the router"
        case .transport(let kind):
            switch kind {
            case .connectionRefused, .connectTimeout, .unreachable, .network:
                return "the gateway may have rebooted onto a new port or address: run `portkeeper discover`"
            case .tooLarge, .malformedResponse, .closedEarly, .redirect:
                return "the gateway's answer was refused as unsafe or broken; run with --verbose for details"
            case .timeout:
                return nil
            }
        case .fault(let code):
            return advice(forFault: code)
        case .protocolViolation:
            return "the gateway's answer breaks the UPnP specification; run with --verbose for details"
        case .reconcileInterrupted:
            return "nothing more was sent to it; check the router, then run `portkeeper reconcile` again"
        case .upnpGone:
            return "run the command again: the gateway is read over PCP or NAT-PMP from now on"
        }
    }

    /// What to try after a device fault whose remedy is a flag or a command (the library's
    /// ``Failure/hint(forFault:)`` says the rest).
    static func advice(forFault code: Int) -> String? {
        switch code {
        case UPnPError.conflictInMappingEntry:
            return "another client holds this port on the router: `portkeeper plan` shows who; replace it with --force, or choose another port"
        case UPnPError.onlyPermanentLeasesSupported:
            return "the router takes permanent leases only: declare the mapping with --lease 0"
        case UPnPError.invalidArgs, 600, 601:
            return "the router refused the values; check --to, the ports and --lease"
        case 724:
            return "this router wants the internal port equal to the external one: use --to HOST:PORT with the same port"
        default:
            return nil
        }
    }

    /// A registry failure: its description, and what to try with the CLI where there is something.
    static func line(_ error: RegistryError) -> String {
        switch error.context {
        case .none:
            return error.description
        case .anotherFileWouldDo:
            if error.hint == nil { return "\(error.description); use another --db" }
            return error.kind == .corrupt ? "\(error.description), or use another --db" : "\(error.description) or use another --db"
        case .emptyPath:
            return "\(error.description); give a file with --db"
        case .unknownRevision:
            return "\(error.description); `portkeeper history` lists them"
        case .noGatewayKnown:
            return "\(error.description); run `portkeeper discover`, or name one with --gateway"
        case .severalGatewaysKnown:
            return "\(error.description); choose one with --gateway"
        case .unknownGateway:
            return "\(error.description); `portkeeper gateways` lists them"
        case .outcomeNotRecorded(let operation, let cause):
            return "\(operation) reached the gateway but its outcome could not be recorded: \(line(cause)); then `portkeeper reconcile` finds it on the gateway and records it"
        }
    }

    /// A failure as the `error` of an ``ErrorDocument``: the stable code of its kind, what
    /// happened, and what to try (the CLI's words where it has its own, as in ``line(_:doing:)``).
    static func json(_ error: any Error, doing what: String) -> ErrorJSON {
        switch error {
        case let error as InputError:
            return ErrorJSON(code: PortKeeperError.Kind.invalidInput.code, message: error.description, hint: nil)
        case let error as RegistryError:
            let full = line(error)
            var hint: String?
            if full.hasPrefix(error.message) {
                let rest = full.dropFirst(error.message.count).trimmingCharacters(in: CharacterSet(charactersIn: ";,. "))
                hint = rest.isEmpty ? nil : rest
            }
            return ErrorJSON(code: code(error.kind), message: error.message, hint: hint)
        default:
            return ErrorJSON(Failure.explain(error, doing: what))
        }
    }

    /// The stable code of a registry failure: "not-found" and "invalid-input" as the library's,
    /// the others "registry-…" ("registry-busy", "registry-corrupt").
    static func code(_ kind: RegistryError.Kind) -> String {
        switch kind {
        case .notFound: return PortKeeperError.Kind.notFound.code
        case .invalid: return PortKeeperError.Kind.invalidInput.code
        case .notADatabase: return "registry-not-a-database"
        case .newerVersion: return "registry-newer-version"
        case .readOnly: return "registry-read-only"
        case .cannotCreate: return "registry-cannot-create"
        case .busy: return "registry-busy"
        case .corrupt: return "registry-corrupt"
        case .diskFull: return "registry-disk-full"
        case .ioError: return "registry-io-error"
        case .failed: return "registry-failed"
        }
    }

    /// discover's `--location` that is not a URL.
    static func locationNotURL(_ location: String) -> PortKeeperError {
        PortKeeperError(.invalidInput, "--location \(location) is not a URL", hint: "give the description URL, e.g. http://192.168.1.1:5000/rootDesc.xml")
    }
}

/// The one way problems reach stderr: one line each, "portkeeper: error: …" or
/// "portkeeper: warning: …", never more than one line.
enum Problems {
    /// Under --json the document on stdout carries what these lines would say (failures,
    /// conflicts, ignored entries), and stderr gets only an ``ErrorDocument`` when the command
    /// fails: set once, before the command body runs.
    nonisolated(unsafe) static var json = false

    static func error(_ message: String) {
        guard !json else { return }
        line("error", message)
    }

    static func warning(_ message: String) {
        guard !json else { return }
        line("warning", message)
    }

    /// A failure under --json: one line of JSON on stderr.
    static func errorDocument(_ error: ErrorJSON) {
        StandardStream.error.write(Render.jsonLine(ErrorDocument(error: error)) + "\n")
    }

    private static func line(_ level: String, _ message: String) {
        let flat = message.split(whereSeparator: \.isNewline).joined(separator: " ")
        StandardStream.error.write("portkeeper: \(level): \(Render.printable(flat))\n")
    }

    /// One warning per entry of the gateway's table that makes no sense.
    static func warn(ignored: [InvalidPortMappingEntry], on gateway: String) {
        for entry in ignored {
            warning("\(gateway) lists an \(entry); ignored, never changed by portkeeper")
        }
    }

    /// After a reconcile: the ignored entries, then one line per failure, conflict, entry
    /// not restored, and the gateway that stopped answering.
    static func report(_ report: Keeper.ReconcileReport) {
        let name = report.gateway.friendlyName
        warn(ignored: report.ignored, on: name)
        // The failure that made the gateway unreachable is told by the last line.
        let failures = report.unreachable == nil ? report.failures : Array(report.failures.dropLast())
        // An entry of another program not re-created is told once, below.
        let unrestored = Set(report.unrestored.map { MappingKey($0.entry) })
        for failure in failures where !unrestored.contains(failure.key) { error(ErrorRendering.line(failure.error)) }
        for conflict in report.remaining.conflicts where report.unreachable == nil {
            error("\(conflict.declared.key) on \(name) is held by another client, \(Render.entry(conflict.holder)); replace it with --force, or choose another port")
        }
        // Those not sent are counted in the gateway's own line.
        for (entry, outcome) in report.unrestored where outcome != Keeper.notSentReason {
            error("\(MappingKey(entry)) of another program was not re-created on \(name): \(outcome)")
        }
        if let unreachable = report.unreachable {
            error(ErrorRendering.line(unreachable))
        } else if !report.inSync && failures.isEmpty && report.remaining.conflicts.isEmpty {
            error("\(name) does not match the declaration yet; `portkeeper plan` shows what differs")
        }
    }
}
