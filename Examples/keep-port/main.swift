import PortKeeper

// keep-port [DESCRIPTION-URL]: forwards TCP port 8080 to this machine, and says so.
// Without a URL it searches the LAN for the gateway (SSDP multicast).
let keeper = Keeper(registry: try Registry(path: Registry.defaultPath()), command: "keep-port")
let gateway = try await keeper.gateway(CommandLine.arguments.dropFirst().first)
let web = DeclaredMapping(key: MappingKey(protocol: .tcp, externalPort: 8080), client: .thisHost,
                          internalPort: 8080, description: "web server")
_ = try keeper.declare(web, gatewayID: gateway.id)
let report = try await keeper.reconcile(gateway, options: Planner.Options())
print(report.inSync ? "8080/tcp is forwarded by \(gateway.friendlyName)" : "not in sync: \(report.failures.map(\.error))")
