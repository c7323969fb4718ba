import IGDClient
import IGDProtocol

/// A gateway that can add and delete port mappings, and maybe list them: what reconcile, plan
/// and rollback talk to, whatever protocol the gateway speaks.
///
/// UPnP IGD (``UPnPGateway``) lists its whole table. NAT-PMP and PCP cannot list: their
/// ``mappings()`` is nil, and the registry's last observation, as portkeeper's own operations
/// left it, stands in for the table.
///
/// A device's refusal is thrown as `UPnPError` with the nearest UPnP code (718 conflict, 714
/// no such entry, 725 permanent leases only); a gateway that does not answer as
/// `TransportError` or `DeadlineExceeded`. Anything else thrown by ``add(_:)`` or
/// ``delete(_:)`` means the outcome is unknown: it is learned by reading, never by replaying.
public protocol MappingGateway: Sendable {
    /// This host's address as the gateway sees it: where mappings declared for "this host" point.
    func localAddress() throws -> IPv4Address
    /// The address the gateway shows the outside.
    func externalAddress() async throws -> ExternalAddress
    /// The gateway's whole table as it is now, entries that make no sense kept apart; nil when
    /// the gateway cannot list (the registry's knowledge stands in).
    func mappings() async throws -> PortMappingTable?
    /// Creates `entry`, or rewrites the one of its key.
    func add(_ entry: PortMappingEntry) async throws
    /// Removes the mapping `entry` is (its key; NAT-PMP and PCP also need its internal port).
    func delete(_ entry: PortMappingEntry) async throws
    /// The same gateway with the command's overall deadline, if it has one, later by `extra`:
    /// a reconcile gives each operation it sends its own request's time.
    func extendingDeadline(by extra: Duration) -> Self
}
