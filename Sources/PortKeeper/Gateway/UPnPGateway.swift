import IGDClient
import IGDProtocol

/// A UPnP IGD gateway's connection service as a ``MappingGateway``: typed SOAP actions sent
/// with a `GatewayClient`, which keeps the request and command deadlines.
public struct UPnPGateway: MappingGateway {
    /// Sends the SOAP actions, with its request timeouts and the command's deadline.
    public var client: GatewayClient
    /// The WAN connection service the actions go to (its control URL and type).
    public var service: ConnectionService

    /// The gateway whose connection service is `service`, reached through `client`.
    public init(client: GatewayClient, service: ConnectionService) {
        self.client = client
        self.service = service
    }

    /// This host's address on the interface facing the gateway ("this host" in a declaration).
    /// - Throws: ``PortKeeperError`` `localNetwork` when no interface reaches the gateway.
    public func localAddress() throws -> IPv4Address {
        let host = service.controlURL.host
        do {
            return try LocalAddress.facing(host)
        } catch {
            throw PortKeeperError(.localNetwork, "cannot tell this host's address towards \(host): \(error)")
        }
    }

    /// The gateway's external address (GetExternalIPAddress).
    public func externalAddress() async throws -> ExternalAddress {
        try await client.perform(Actions.GetExternalIPAddress(), on: service)
    }

    /// GetListOfPortMappings on IGDv2 where it answers, else the GetGenericPortMappingEntry walk.
    public func mappings() async throws -> PortMappingTable? {
        try await client.portMappings(on: service)
    }

    /// Writes `entry` (AddPortMapping); an entry with the same key is replaced.
    public func add(_ entry: PortMappingEntry) async throws {
        try await client.perform(Actions.AddPortMapping(entry), on: service)
    }

    /// Deletes the mapping with `entry`'s key (DeletePortMapping).
    public func delete(_ entry: PortMappingEntry) async throws {
        try await client.perform(Actions.DeletePortMapping(remoteHost: entry.remoteHost, externalPort: entry.externalPort, protocol: entry.protocol), on: service)
    }

    /// The same gateway with the command's deadline pushed back by `extra` (a reconcile's extra operations).
    public func extendingDeadline(by extra: Duration) -> UPnPGateway {
        var extended = self
        if let deadline = client.deadline { extended.client.deadline = deadline.extended(by: extra) }
        return extended
    }
}
