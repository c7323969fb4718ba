import ArgumentParser
import IGDProtocol
import PortKeeper

struct DiscoverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "discover",
        abstract: "Find the Internet gateways on the local network (UPnP IGD, NAT-PMP, PCP).",
        discussion: HelpText.discover
    )

    @OptionGroup var discovery: DiscoveryArguments

    @Option(name: .long, help: ArgumentHelp("Use the gateway at this description URL and skip SSDP.", valueName: "url"))
    var location: String?

    @OptionGroup var output: OutputArguments
    @OptionGroup var registry: RegistryArguments

    func run() async throws {
        try await reportingFailures(verbose: discovery.verbose, json: output.json) {
            let url: GatewayURL?
            switch try GatewayReference(parsing: location) {
            case .descriptionURL(let given): url = given
            case .any: url = nil
            case .name, .portControlServer: throw ErrorRendering.locationNotURL(location ?? "")
            }
            let keeper = discovery.keeper(try registry.open())
            let found = try await Inspector(client: keeper.client, discovery: discovery.options).discover(at: url)
            try keeper.record(found)
            emit(output.json ? Render.json(DiscoverDocument(found)) : found.found.map(Render.found).joined(separator: "\n"))
        }
    }
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a gateway's external address, connection status and uptime.",
        discussion: HelpText.status
    )

    @OptionGroup var gateway: GatewayArgument
    @OptionGroup var discovery: DiscoveryArguments
    @OptionGroup var output: OutputArguments
    @OptionGroup var registry: RegistryArguments

    func run() async throws {
        try await reportingFailures(verbose: discovery.verbose, json: output.json) {
            let keeper = discovery.keeper(try registry.open())
            let reference = try gateway.reference()
            func portControlStatus(_ record: GatewayRecord) async throws {
                let (external, epoch) = try await keeper.portControlStatus(record)
                emit(output.json ? Render.json(StatusDocument(record, external: external, epochSeconds: epoch))
                                 : Render.status(record, external: external, epochSeconds: epoch))
            }
            if let record = try ListCommand.portControlGateway(reference, in: keeper.registry) {
                return try await portControlStatus(record)
            }
            let found: Gateway
            do {
                found = try await keeper.status(reference)
            } catch let error as PortKeeperError where error.context == .upnpGone {
                // UPnP was switched off at the router and PCP/NAT-PMP answers: ask that way.
                guard let record = try ListCommand.portControlGateway(reference, in: keeper.registry) else { throw error }
                return try await portControlStatus(record)
            }
            emit(output.json ? Render.json(StatusDocument(found)) : Render.status(found))
        }
    }
}

struct ListCommand: AsyncParsableCommand {
    /// The recorded gateway `reference` names when its mappings are made over PCP or NAT-PMP.
    static func portControlGateway(_ reference: GatewayReference, in registry: Registry) throws -> GatewayRecord? {
        if case .descriptionURL = reference { return nil }
        guard !(try registry.gateways().isEmpty) else { return nil }
        let record = try registry.gateway(reference)
        return record.mappingProtocol.0 == .upnp ? nil : record
    }

    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the port mappings the gateway actually has.",
        discussion: HelpText.list
    )

    @OptionGroup var gateway: GatewayArgument
    @OptionGroup var discovery: DiscoveryArguments
    @OptionGroup var output: OutputArguments
    @OptionGroup var registry: RegistryArguments

    func run() async throws {
        try await reportingFailures(verbose: discovery.verbose, json: output.json) {
            let keeper = discovery.keeper(try registry.open())
            let reference = try gateway.reference()
            // PCP and NAT-PMP cannot list: say so, and show what portkeeper made, as last verified.
            func portControlTable(_ record: GatewayRecord) throws {
                let declared = try keeper.registry.declarations(gatewayID: record.id)
                let granted = try GrantedMapping.known(on: record, declared: declared, registry: keeper.registry)
                let table = try keeper.registry.lastObservation(gatewayID: record.id) ?? []
                emit(output.json ? Render.json(ListDocument(portControl: record, entries: table, granted: granted))
                                 : Render.portControlTable(record, entries: table, granted: granted))
            }
            if let record = try Self.portControlGateway(reference, in: keeper.registry) {
                return try portControlTable(record)
            }
            let found: Gateway
            do {
                found = try await keeper.liveGateway(reference, probe: .whenChoosing)
            } catch let error as PortKeeperError where error.context == .upnpGone {
                guard let record = try Self.portControlGateway(reference, in: keeper.registry) else { throw error }
                return try portControlTable(record)
            }
            let table = try await Inspector(client: keeper.client, discovery: discovery.options).mappings(on: found)
            emit(output.json ? Render.json(ListDocument(table, gateway: found)) : Render.table(table, gateway: found))
            Problems.warn(ignored: table.invalid, on: found.friendlyName)
        }
    }
}
