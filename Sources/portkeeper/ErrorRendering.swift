import ArgumentParser
import Foundation
import IGDProtocol
import Logging
import MappingRegistry
import PortKeeper

// The one file where a failure becomes what the user reads. The library says what happened
// (a ``PortKeeperError`` or ``RegistryError``: a kind, a message, a typed context); here the
// CLI adds what to try in its own words, naming its flags and commands, and prints one line.

/// Runs a command body, printing any failure as one line on stderr and exiting non-zero.
func reportingFailures(verbose: Bool, defaultLevel: Logger.Level = .warning, _ body: () async throws -> Void) async throws {
    setUpLogging(verbose: verbose, defaultLevel: defaultLevel)
    do {
        try await body()
    } catch let error as ExitCode {
        throw error
    } catch {
        if let input = error as? InputError {
            // A declaration file to fix: where and what, exit 64 like any usage error.
            Problems.error(input.description)
            throw ExitCode(64)
        }
        let exitCode = (error as? RegistryError).map { registryExitCode($0.kind) } ?? .failure
        Problems.error(ErrorRendering.line(error, doing: CommandLine.arguments.dropFirst().first ?? "the command"))
        throw exitCode
    }
}

/// The exit codes of registry failures a script may want to tell apart (README, "Exit codes"),
/// from sysexits.h so as not to collide with 0 ok, 1 error, 2 changes pending, 3 not in sync,
/// 64 usage: 65 (EX_DATAERR) the registry is damaged; 75 (EX_TEMPFAIL) it is busy, try again;
/// 78 (EX_CONFIG) it was written by a newer portkeeper. Every other failure exits 1.
func registryExitCode(_ kind: RegistryError.Kind) -> ExitCode {
    switch kind {
    case .corrupt: ExitCode(65)
    case .busy: ExitCode(75)
    case .newerVersion: ExitCode(78)
    default: .failure
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

    /// discover's `--location` that is not a URL.
    static func locationNotURL(_ location: String) -> PortKeeperError {
        PortKeeperError(.invalidInput, "--location \(location) is not a URL", hint: "give the description URL, e.g. http://192.168.1.1:5000/rootDesc.xml")
    }
}

/// The one way problems reach stderr: one line each, "portkeeper: error: …" or
/// "portkeeper: warning: …", never more than one line.
enum Problems {
    static func error(_ message: String) {
        line("error", message)
    }

    static func warning(_ message: String) {
        line("warning", message)
    }

    private static func line(_ level: String, _ message: String) {
        let flat = message.split(whereSeparator: \.isNewline).joined(separator: " ")
        FileHandle.standardError.write(Data("portkeeper: \(level): \(Render.printable(flat))\n".utf8))
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
