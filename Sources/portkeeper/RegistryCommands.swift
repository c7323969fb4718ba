import ArgumentParser
import Foundation
import IGDClient
import IGDProtocol
import MappingRegistry
import PortKeeper

struct RegistryArguments: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The registry file (default: $PORTKEEPER_DB, else $XDG_DATA_HOME/portkeeper/registry.sqlite).", valueName: "path"))
    var db: String?

    /// Opens the registry; `beforeActing` (a command that may act on a router) also checks every
    /// page of it first, so that a damaged registry is named before anything is sent.
    func open(beforeActing: Bool = false) throws -> Registry {
        let registry = try Registry(path: path)
        if beforeActing { try registry.checkIntegrity() }
        return registry
    }

    /// Opens an existing registry for a command that only reads it (`mappings`, `history`,
    /// `gateways`, `export`): a path that names no file is an error, never a new registry (a
    /// mistyped --db must not leave directories and an empty registry behind).
    func openExisting() throws -> Registry {
        guard FileManager.default.fileExists(atPath: path) else {
            throw RegistryError.notFound("there is no registry at \(path): nothing has been declared there (`portkeeper add` or `portkeeper apply -f` creates it; check --db or PORTKEEPER_DB)")
        }
        return try open()
    }

    var path: String { db ?? Registry.defaultPath() }
}

/// The bytes of argv as the process received them, before Swift decodes them into
/// `CommandLine.arguments` (which replaces invalid UTF-8 with U+FFFD).
func rawArguments() -> [[UInt8]] {
    (0..<Int(CommandLine.argc)).map { index in
        guard let pointer = CommandLine.unsafeArgv[index] else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: strlen(pointer)))
    }
}

/// The command line as history records it.
var commandLine: String {
    (["portkeeper"] + CommandLine.arguments.dropFirst()).map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " ")
}

extension DiscoveryArguments {
    /// A keeper for a one-shot command: every exchange with the gateway fits in `--deadline`
    /// (by default 60 s, and a reconcile 5 s more per change it sends); `watch` has none.
    func keeper(_ registry: Registry, deadline: Bool = true) -> Keeper {
        var keeper = Keeper(registry: registry, client: deadline ? client() : GatewayClient(), discovery: options, command: commandLine)
        keeper.deadlineScalesWithWork = self.deadline == nil
        // $PORTKEEPER_PCP_SERVER names the PCP/NAT-PMP server's port too (tests: a fake on loopback).
        if case .server(_, let port) = options.portControl { keeper.portControl = PortControlClient(serverPort: port) }
        return keeper
    }
}

struct AddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Declare a mapping and apply it now.", discussion: HelpText.add)

    @Argument(help: ArgumentHelp("The external port and protocol, like 8080/tcp.", valueName: "port/proto"))
    var mapping: String
    @Option(name: .long, help: ArgumentHelp("Where traffic goes: [HOST][:PORT] (default: this host, the same port).", valueName: "host:port"))
    var to: String?
    @Option(name: .long, help: "A description the router shows.")
    var description: String = "portkeeper"
    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Lease in seconds, 0 for permanent (at most 604800).", valueName: "seconds"))
    var lease: Int = 0
    @Flag(name: .customLong("no-apply"), help: "Only declare; apply with `portkeeper reconcile`.")
    var noApply = false
    @Flag(name: .customLong("allow-remote-client"), help: "Accept a --to host on none of this machine's subnets (one behind another router of the LAN).")
    var allowRemoteClient = false
    @Option(name: .customLong("protocol"), help: ArgumentHelp(
        "Make this gateway's mappings over upnp, pcp or natpmp (remembered for the gateway; default: UPnP IGD where it answers, else PCP, else NAT-PMP).",
        valueName: "protocol"))
    var mappingProtocol: GatewayProtocol?
    @OptionGroup var gateway: GatewayArgument
    @OptionGroup var registry: RegistryArguments
    @OptionGroup var discovery: DiscoveryArguments
    @OptionGroup var output: OutputArguments

    func run() async throws {
        try await reportingFailures(verbose: discovery.verbose, json: output.json) {
            try DeclarationInput.checkUTF8(rawArguments())
            let key = try DeclarationInput.key(mapping)
            let (client, port) = try DeclarationInput.target(to)
            if case .address(let address) = client {
                try DeclarationInput.client(address, localSubnets: LocalSubnets.current(), allowRemote: allowRemoteClient)
            }
            let declared = DeclaredMapping(key: key, client: client, internalPort: port ?? key.externalPort,
                                           description: try DeclarationInput.description(description), leaseDuration: try DeclarationInput.lease(lease))
            let keeper = discovery.keeper(try registry.open(beforeActing: true))
            var record = try await keeper.gateway(try gateway.reference())
            if let mappingProtocol, mappingProtocol != record.declaredProtocol {
                record = try keeper.chooseProtocol(mappingProtocol, for: record)
            }
            let revision = try keeper.declare(declared, gatewayID: record.id)
            if output.json {
                try await Reconcile.declared(keeper, record, revision: revision, apply: !noApply)
                return
            }
            if let revision {
                emit("revision \(revision): declared \(key) on \(record.friendlyName)")
            } else {
                emit("\(key) is already declared so on \(record.friendlyName)")
            }
            if !noApply { try await Reconcile.apply(keeper, record, options: Planner.Options(), revision: revision, json: false) }
        }
    }
}

struct RemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a declared mapping and delete it from the gateway now.", discussion: HelpText.remove)

    @Argument(help: ArgumentHelp("The external port and protocol, like 8080/tcp.", valueName: "port/proto"))
    var mapping: String
    @Flag(name: .customLong("no-apply"), help: "Only change the declaration; apply with `portkeeper reconcile`.")
    var noApply = false
    @OptionGroup var gateway: GatewayArgument
    @OptionGroup var registry: RegistryArguments
    @OptionGroup var discovery: DiscoveryArguments
    @OptionGroup var output: OutputArguments

    func run() async throws {
        try await reportingFailures(verbose: discovery.verbose, json: output.json) {
            let key = try DeclarationInput.key(mapping)
            let keeper = discovery.keeper(try registry.open(beforeActing: true))
            let record = try keeper.registry.gateway(try gateway.reference())
            let revision = try keeper.undeclare(key, gatewayID: record.id)
            if output.json {
                try await Reconcile.declared(keeper, record, revision: revision, apply: !noApply)
                return
            }
            emit("revision \(revision): removed \(key) from the declaration of \(record.friendlyName)")
            if !noApply { try await Reconcile.apply(keeper, record, options: Planner.Options(), revision: revision, json: false) }
        }
    }
}

struct MappingsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "mappings", abstract: "List the declared mappings.", discussion: HelpText.mappings)

    @OptionGroup var registry: RegistryArguments
    @OptionGroup var output: OutputArguments

    func run() async throws {
        try await reportingFailures(verbose: false, json: output.json) {
            let store = try registry.openExisting()
            let all = try store.allDeclarations().map { gateway, mappings in
                (gateway, mappings, try GrantedMapping.known(on: gateway, declared: mappings, registry: store))
            }
            if output.json {
                emit(Render.json(MappingsDocument(all)))
                return
            }
            guard all.contains(where: { !$0.1.isEmpty }) else {
                emit("nothing is declared; add a mapping with `portkeeper add PORT/PROTO`")
                return
            }
            for (gateway, mappings, granted) in all where !mappings.isEmpty {
                emit("\(gateway.friendlyName) (\(gateway.udn)), over \(gateway.mappingProtocol.0)")
                emit(Render.columns(["PROTO", "EXTERNAL", "TO", "ENABLED", "LEASE", "GRANTED", "DESCRIPTION"], mappings.map { m in
                    [m.key.protocol.rawValue, String(m.key.externalPort) + (m.key.remoteHost.isEmpty ? "" : " from \(m.key.remoteHost)"),
                     "\(m.client):\(m.internalPort)", m.enabled ? "yes" : "no", m.leaseDuration == 0 ? "permanent" : "\(m.leaseDuration) s",
                     Render.granted(granted[m.key]), Render.printable(m.description)]
                }, indent: "  "))
            }
        }
    }
}

struct GatewaysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "gateways", abstract: "List the gateways the registry knows.", discussion: HelpText.gateways)

    @OptionGroup var registry: RegistryArguments
    @OptionGroup var output: OutputArguments

    func run() async throws {
        try await reportingFailures(verbose: false, json: output.json) {
            let gateways = try registry.openExisting().gateways()
            if output.json {
                emit(Render.json(GatewaysDocument(gateways: gateways.map(GatewayRecordJSON.init))))
                return
            }
            guard !gateways.isEmpty else {
                emit("no gateway is known yet; run `portkeeper discover`")
                return
            }
            emit(Render.columns(["UDN", "NAME", "EXTERNAL IP", "PROTOCOL", "CONTROL URL", "LAST SEEN"], gateways.map { g in
                [g.udn, g.friendlyName, g.externalAddress ?? "-", g.mappingProtocol.0.rawValue, g.controlURL?.description ?? g.location,
                 g.lastSeen.formatted(.iso8601)]
            }))
        }
    }
}

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "plan", abstract: "Show what reconcile (or apply -f FILE) would change, changing nothing.", discussion: HelpText.plan)

    @OptionGroup var input: FileArgument
    @OptionGroup var gateway: GatewayArgument
    @Flag(name: .long, help: "Also delete entries portkeeper did not create.")
    var prune = false
    @Flag(name: .customLong("exit-code"), help: "Exit 0 when in sync, 2 when changes are pending, 1 on error.")
    var exitCode = false
    @OptionGroup var registry: RegistryArguments
    @OptionGroup var discovery: DiscoveryArguments
    @OptionGroup var output: OutputArguments

    func run() async throws {
        try await reportingFailures(verbose: discovery.verbose, json: output.json) {
            let file = try input.read()
            let keeper = discovery.keeper(try registry.open())
            let reference = try file.map { try FileArgument.gatewayReference(file: $0.file, option: gateway.gateway, path: $0.path) } ?? gateway.reference()
            let record = try await keeper.gateway(reference)
            let report = try await keeper.plan(record, options: Planner.Options(prune: prune), proposed: file?.file.mappings.map(\.mapping))
            try Reconcile.show(report, json: output.json, exitCode: exitCode)
        }
    }
}

struct ReconcileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reconcile", abstract: "Make the gateway match the declaration.", discussion: HelpText.reconcile)

    @OptionGroup var gateway: GatewayArgument
    @OptionGroup var reconciling: ReconcileFlags
    @Flag(name: .customLong("dry-run"), help: "Show the plan and change nothing.")
    var dryRun = false
    @Flag(name: .customLong("exit-code"), help: "With --dry-run: exit 0 when in sync, 2 when changes are pending, 1 on error.")
    var exitCode = false
    @OptionGroup var registry: RegistryArguments
    @OptionGroup var discovery: DiscoveryArguments
    @OptionGroup var output: OutputArguments

    func validate() throws {
        if exitCode && !dryRun { throw ValidationError("--exit-code goes with --dry-run (a reconcile exits 0 in sync, 3 not in sync)") }
    }

    func run() async throws {
        try await reportingFailures(verbose: discovery.verbose, json: output.json) {
            let keeper = discovery.keeper(try registry.open(beforeActing: true))
            let record = try await keeper.gateway(try gateway.reference())
            let options = reconciling.options
            if dryRun {
                try Reconcile.show(try await keeper.plan(record, options: options), json: output.json, exitCode: exitCode)
                return
            }
            try await Reconcile.apply(keeper, record, options: options, revision: nil, json: output.json)
        }
    }
}

/// How a reconcile treats other programs' entries (reconcile, apply).
struct ReconcileFlags: ParsableArguments {
    @Flag(name: .long, help: "Also delete entries portkeeper did not create.")
    var prune = false
    @Flag(name: .long, help: "Replace entries of other clients that hold a declared port.")
    var force = false

    var options: Planner.Options { Planner.Options(prune: prune, force: force) }
}

enum Reconcile {
    /// Reconciles, showing each operation as it ends (``ProgressOutput``), prints what
    /// happened, and exits 3 unless the gateway matches (1 when it stopped answering), with one
    /// line on stderr per failure.
    /// - Parameter declaration: what the revision changed in the declaration, for --json.
    static func apply(_ keeper: Keeper, _ record: GatewayRecord, options: Planner.Options, revision: Int64?, json: Bool,
                      declaration: [Change] = []) async throws {
        let progress = ProgressOutput.standard(json: json)
        let report: Keeper.ReconcileReport
        do {
            report = try await keeper.reconcile(record, options: options, revision: revision, progress: progress.handle)
        } catch {
            progress.finish()
            throw error
        }
        progress.finish()
        emit(json ? Render.json(ReconcileDocument(report, declaration: declaration)) : Render.reconcile(report, changes: progress.notYetShown(report.changes)))
        try finish(report)
    }

    /// After a reconcile: the problems on stderr, and the exit code (``ExitStatus``).
    static func finish(_ report: Keeper.ReconcileReport) throws {
        Problems.report(report)
        if let unreachable = report.unreachable {
            if Problems.json { Problems.errorDocument(ErrorJSON(unreachable)) }
            throw ExitStatus.failure
        }
        if !report.succeeded { throw ExitStatus.notInSync }
    }

    /// `add` or `remove` under --json: one document, the declaration's change and the
    /// reconcile (unless --no-apply).
    static func declared(_ keeper: Keeper, _ record: GatewayRecord, revision: Int64?, apply: Bool) async throws {
        let declaration = try revision.map { try changes(of: $0, keeper.registry, gatewayID: record.id) } ?? []
        if apply {
            try await Self.apply(keeper, record, options: Planner.Options(), revision: revision, json: true, declaration: declaration)
        } else {
            emit(Render.json(ReconcileDocument(gateway: record, revision: revision, declaration: declaration)))
        }
    }

    /// What revision `revision` changed, as the registry recorded it.
    static func changes(of revision: Int64, _ registry: Registry, gatewayID: Int64) throws -> [Change] {
        try registry.history(limit: 20, gatewayID: gatewayID).first { $0.number == revision }?.changes ?? []
    }

    /// A plan (`plan`, `reconcile --dry-run`): text or the JSON document; with `exitCode`,
    /// exit 2 when anything would change.
    static func show(_ report: Keeper.PlanReport, json: Bool, exitCode: Bool) throws {
        emit(json ? Render.json(ReconcileDocument(plan: report)) : Render.plan(report))
        Problems.warn(ignored: report.ignored, on: report.gateway.friendlyName)
        if exitCode && !(report.plan.isInSync && report.declarationChanges.isEmpty) { throw ExitStatus.changesPending }
    }
}

struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "history", abstract: "Show what changed, when, and who did it.", discussion: HelpText.history)

    @Option(name: .long, help: "How many revisions to show, newest first.")
    var limit: Int = 20
    @OptionGroup var gateway: GatewayArgument
    @OptionGroup var registry: RegistryArguments
    @OptionGroup var output: OutputArguments

    func validate() throws {
        guard limit > 0 else { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        try await reportingFailures(verbose: false, json: output.json) {
            let registry = try registry.openExisting()
            // Without --gateway, every gateway's revisions.
            let reference = try gateway.reference()
            let gatewayID = reference == .any ? nil : try registry.gateway(reference).id
            let revisions = try registry.history(limit: limit, gatewayID: gatewayID)
            emit(output.json ? Render.json(HistoryDocument(revisions)) : Render.history(revisions))
        }
    }
}

struct RollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Restore the declaration as it was right after a revision, and reconcile.",
        discussion: """
            Entries of other programs that --prune or --force deleted since are re-created. The rollback is itself a \
            revision, so it can be undone.

            Examples:
              portkeeper history            # find the revision to go back to
              portkeeper rollback 12
              portkeeper rollback 12 --no-apply
            """
    )

    @Argument(help: "The revision to go back to (see `portkeeper history`).")
    var revision: Int64
    @Flag(name: .customLong("no-apply"), help: "Only restore the declaration.")
    var noApply = false
    @OptionGroup var registry: RegistryArguments
    @OptionGroup var discovery: DiscoveryArguments
    @OptionGroup var output: OutputArguments

    func run() async throws {
        try await reportingFailures(verbose: discovery.verbose, json: output.json) {
            let keeper = discovery.keeper(try registry.open(beforeActing: true))
            let progress = ProgressOutput.standard(json: output.json)
            let rolledBack: (revision: Int64, report: Keeper.ReconcileReport?)
            do {
                rolledBack = try await keeper.rollback(to: revision, apply: !noApply, progress: progress.handle)
            } catch {
                progress.finish()
                throw error
            }
            progress.finish()
            let newRevision = rolledBack.revision
            if output.json {
                guard let gatewayID = try keeper.registry.revisionGateway(newRevision), let record = try keeper.registry.gateway(id: gatewayID) else { return }
                let declaration = try Reconcile.changes(of: newRevision, keeper.registry, gatewayID: gatewayID)
                emit(Render.json(rolledBack.report.map { ReconcileDocument($0, declaration: declaration) }
                    ?? ReconcileDocument(gateway: record, revision: newRevision, declaration: declaration)))
            } else if let report = rolledBack.report {
                emit("revision \(newRevision): declaration restored to revision \(revision)\n" + Render.reconcile(report, changes: progress.notYetShown(report.changes)))
            } else {
                emit("revision \(newRevision): declaration restored to revision \(revision); apply it with `portkeeper reconcile`")
            }
            if let report = rolledBack.report { try Reconcile.finish(report) }
        }
    }
}
