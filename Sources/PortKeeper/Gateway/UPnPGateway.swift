import IGDClient
import IGDProtocol

/// A UPnP IGD gateway's connection service as a ``MappingGateway``: typed SOAP actions sent
/// with a `GatewayClient`, which keeps the request and command deadlines.
public struct UPnPGateway: MappingGateway {
    public var client: GatewayClient
    public var service: ConnectionService

    public init(client: GatewayClient, service: ConnectionService) {
        self.client = client
        self.service = service
    }

    public func localAddress() throws -> IPv4Address {
        let host = service.controlURL.host
        do {
            return try LocalAddress.facing(host)
        } catch {
            throw PortKeeperError(.localNetwork, "cannot tell this host's address towards \(host): \(error)")
        }
    }

    public func externalAddress() async throws -> ExternalAddress {
        try await client.perform(Actions.GetExternalIPAddress(), on: service)
    }

    /// GetListOfPortMappings on IGDv2 where it answers, else the GetGenericPortMappingEntry walk.
    public func mappings() async throws -> PortMappingTable? {
        try await client.portMappings(on: service)
    }

    public func add(_ entry: PortMappingEntry) async throws {
        try await client.perform(Actions.AddPortMapping(entry), on: service)
    }

    public func delete(_ entry: PortMappingEntry) async throws {
        try await client.perform(Actions.DeletePortMapping(remoteHost: entry.remoteHost, externalPort: entry.externalPort, protocol: entry.protocol), on: service)
    }

    public func extendingDeadline(by extra: Duration) -> UPnPGateway {
        var extended = self
        if let deadline = client.deadline { extended.client.deadline = deadline.extended(by: extra) }
        return extended
    }
}
