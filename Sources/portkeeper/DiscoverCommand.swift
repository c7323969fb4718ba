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
            case .name: throw ErrorRendering.locationNotURL(location ?? "")
            }
            let keeper = discovery.keeper(try registry.open())
            let found = try await Inspector(client: keeper.client, discovery: discovery.options).discover(at: url)
            // NAT-PMP/PCP-only gateways are not recorded yet: the registry does not know them.
            for gateway in found.gateways { try keeper.record(gateway) }
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
            let found = try await discovery.keeper(try registry.open()).status(try gateway.reference())
            emit(output.json ? Render.json(StatusDocument(found)) : Render.status(found))
        }
    }
}

struct ListCommand: AsyncParsableCommand {
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
            let found = try await keeper.liveGateway(try gateway.reference(), probe: .whenChoosing)
            let table = try await Inspector(client: keeper.client, discovery: discovery.options).mappings(on: found)
            emit(output.json ? Render.json(ListDocument(table, gateway: found)) : Render.table(table, gateway: found))
            Problems.warn(ignored: table.invalid, on: found.friendlyName)
        }
    }
}
