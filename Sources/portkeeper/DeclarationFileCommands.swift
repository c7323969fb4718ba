import ArgumentParser
import Foundation
import IGDClient
import IGDProtocol
import MappingRegistry
import PortKeeper

/// Reads a declaration file named on the command line: the whole file, checked, or one line
/// saying where it is wrong (exit 64, nothing changed).
struct FileArgument: ParsableArguments {
    @Option(name: [.customShort("f"), .customLong("file")], help: ArgumentHelp("A declaration file (YAML; `portkeeper export` writes one); - reads standard input.", valueName: "file"))
    var file: String?

    /// The file, parsed and its clients checked; nil without `-f`.
    func read() throws -> (file: DeclarationFile, path: String)? {
        guard let file else { return nil }
        let path = file == "-" ? "<stdin>" : file
        let bytes: [UInt8]
        if file == "-" {
            bytes = Array(FileHandle.standardInput.readData(ofLength: DeclarationFile.maxBytes + 1))
        } else {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw InputError("\(path): cannot be read (\(FileManager.default.fileExists(atPath: file) ? "permission denied?" : "no such file"))")
            }
            bytes = Array(data)
        }
        do {
            let parsed = try DeclarationFile.parse(bytes, path: path)
            try parsed.checkClients(localSubnets: LocalSubnets.current(), path: path)
            return (parsed, path)
        } catch let error as PortKeeperError {
            throw InputError(error.description)
        }
    }

    /// The gateway to act on: the file's, or `--gateway`'s; both must agree when both are given.
    static func gatewayReference(file: DeclarationFile, option: String?, path: String) throws -> GatewayReference {
        if let named = file.gateway, let option, named != option {
            throw InputError("\(path) names the gateway '\(named)' and --gateway says '\(option)'; drop one of them")
        }
        return try GatewayReference(parsing: file.gateway ?? option)
    }
}

/// Input the user must fix (a declaration file): one line, exit 64, nothing done.
struct InputError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Make the declaration equal a file, and reconcile.",
        discussion: """
            The file lists every mapping wanted on one gateway (`portkeeper export` writes the current declaration in \
            that format); mappings declared before and absent from the file are removed from the declaration and \
            deleted from the gateway. A file with an error changes nothing. The change is one revision: \
            `portkeeper rollback` undoes it.

            Example:
              portkeeper export > ports.yaml    # edit it, then
              portkeeper plan -f ports.yaml     # see what would change
              portkeeper apply -f ports.yaml
            """
    )

    @OptionGroup var input: FileArgument
    @OptionGroup var gateway: GatewayArgument
    @OptionGroup var reconciling: ReconcileFlags
    @Flag(name: .customLong("no-apply"), help: "Only change the declaration; apply with `portkeeper reconcile`.")
    var noApply = false
    @OptionGroup var registry: RegistryArguments
    @OptionGroup var discovery: DiscoveryArguments
    @OptionGroup var output: OutputArguments

    func validate() throws {
        guard input.file != nil else { throw ValidationError("apply needs a declaration file: -f FILE") }
    }

    func run() async throws {
        try await reportingFailures(verbose: discovery.verbose, json: output.json) {
            guard let (file, path) = try input.read() else { return }
            let keeper = discovery.keeper(try registry.open(beforeActing: true))
            let record = try await keeper.gateway(try FileArgument.gatewayReference(file: file, option: gateway.gateway, path: path))
            let applied = try keeper.replaceDeclaration(with: file.mappings.map(\.mapping), gatewayID: record.id, source: path)
            if let applied {
                if !output.json {
                    emit("revision \(applied.revision): \(applied.changes.count) declaration change\(applied.changes.count == 1 ? "" : "s") from \(path) on \(record.friendlyName)")
                    for change in applied.changes { emit("  \(Render.change(change))") }
                }
            } else if !output.json {
                emit("the declaration of \(record.friendlyName) already matches \(path)")
            }
            if !noApply {
                try await Reconcile.apply(keeper, record, options: reconciling.options, revision: applied?.revision, json: output.json,
                                          declaration: applied?.changes ?? [])
            } else if output.json {
                emit(Render.json(ReconcileDocument(gateway: record, revision: applied?.revision, declaration: applied?.changes ?? [])))
            }
        }
    }
}

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the declaration as a file apply -f reads.",
        discussion: """
            Reads the registry only; never talks to the gateway. `portkeeper export > ports.yaml` followed by \
            `portkeeper apply -f ports.yaml` changes nothing.

            Examples:
              portkeeper export > ports.yaml
              portkeeper export --gateway uuid:0bd2 > router2.yaml
            """
    )

    @OptionGroup var gateway: GatewayArgument
    @OptionGroup var registry: RegistryArguments

    func run() async throws {
        try await reportingFailures(verbose: false) {
            let registry = try registry.openExisting()
            let record = try registry.gateway(try gateway.reference())
            let subnets = LocalSubnets.current()
            let entries = try registry.declarations(gatewayID: record.id).map { mapping -> DeclarationFile.Entry in
                // A client on none of this machine's subnets was declared with --allow-remote-client.
                var remote = false
                if case .address(let address) = mapping.client { remote = !subnets.contains { $0.contains(address) } }
                return DeclarationFile.Entry(mapping: mapping, allowRemoteClient: remote)
            }
            StandardStream.output.write(DeclarationFile(gateway: record.udn, mappings: entries).yaml())
        }
    }
}
