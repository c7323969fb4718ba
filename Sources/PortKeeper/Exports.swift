// Everything a program that uses the library names comes with `import PortKeeper`: the domain's
// nouns (MappingKey, DeclaredMapping, Change), the registry it opens (Registry, GatewayRecord,
// RegistryError), the UPnP client and its options (GatewayClient, DiscoveryOptions), and the
// protocol's values (TransportProtocol, PortMappingEntry, IPv4Address). Re-exporting changes
// what a user sees, not what this module imports: GRDB stays MappingRegistry's alone.
@_exported import IGDClient
@_exported import IGDProtocol
@_exported import MappingRegistry
@_exported import PortKeeperModel
