import Foundation
import IGDClient
import IGDProtocol
import MappingRegistry
import PortKeeperModel

extension Keeper {
    /// The cheapest look that tells whether the gateway still matches: on IGDv2 one
    /// GetListOfPortMappings per declared protocol, else one GetSpecificPortMappingEntry per
    /// declared mapping. Writes nothing. `watch` reconciles only when this says no.
    /// - Returns: whether every declared mapping is there as declared, none needs renewing and
    ///   nothing portkeeper owns is left over; when the next lease renewal falls due; and how
    ///   many mappings are declared on the gateway.
    public func quickCheck(_ record: GatewayRecord) async throws -> (inSync: Bool, nextRenewal: Duration?, declared: Int) {
        let declared = try registry.declarations(gatewayID: record.id)
        let owned = try registry.ownedKeys(gatewayID: record.id)
        guard try registry.unresolvedOperations(gatewayID: record.id).isEmpty else { return (false, nil, declared.count) }
        // Entries portkeeper owns but no longer declares need a reconcile to go.
        guard owned.isSubset(of: Set(declared.map(\.key))) else { return (false, nil, declared.count) }
        guard let service = record.service, record.mappingProtocol.0 == .upnp else {
            return try await quickCheckPortControl(record, declared: declared, owned: owned)
        }
        var seen: [PortMappingEntry] = []
        if service.type.isVersion2 && record.listOfPortMappingsWorks != false {
            for proto in Set(declared.map(\.key.protocol)).sorted(by: { $0.rawValue < $1.rawValue }) {
                do {
                    // Entries that make no sense are ignored here as in the planner.
                    let action = Actions.GetListOfPortMappings(protocol: proto)
                    seen += try action.decodeChecked(try await client.call(action, on: service, within: client.deadline)).entries
                } catch let error as UPnPError where error.code == UPnPError.portMappingNotFound {
                    continue
                }
            }
        } else {
            for mapping in declared {
                do {
                    seen.append(try await client.perform(Actions.GetSpecificPortMappingEntry(
                        remoteHost: mapping.key.remoteHost, externalPort: mapping.key.externalPort, protocol: mapping.key.protocol), on: service))
                } catch let error as UPnPError where error.code == UPnPError.noSuchEntryInArray {
                    return (false, nil, declared.count)
                }
            }
        }
        let relevant = seen.filter { entry in declared.contains { $0.key == MappingKey(entry) } }
        let plan = Planner.plan(declared: declared, actual: relevant, owned: owned, hostAddress: try hostAddress(record),
                                permanentLeasesOnly: record.permanentLeasesOnly, descriptionLimit: record.descriptionLimit)
        return (!plan.hasWork && plan.conflicts.isEmpty, Self.nextRenewal(declared: declared, table: relevant), declared.count)
    }

    /// The quick check of a PCP or NAT-PMP gateway: its epoch (one ANNOUNCE or address
    /// request) says whether what portkeeper made is still there; no mapping is due for renewal.
    func quickCheckPortControl(_ record: GatewayRecord, declared: [DeclaredMapping], owned: Set<MappingKey>) async throws -> (inSync: Bool, nextRenewal: Duration?, declared: Int) {
        let table = try await mappingGateway(for: record).mappings()?.entries ?? []
        let plan = Planner.plan(declared: declared, actual: table, owned: owned, hostAddress: try hostAddress(record),
                                permanentLeasesOnly: false, descriptionLimit: nil)
        let next = try portControlRenewal(record)
        return (!plan.hasWork && plan.conflicts.isEmpty && next.map { $0 > .zero } ?? true, next, declared.count)
    }

    /// How long until the first of the gateway's PCP/NAT-PMP mappings is due for renewal
    /// (``PortControlGateway/renewalDue(_:at:)``); nil when it has none, or over UPnP IGD.
    func portControlRenewal(_ record: GatewayRecord) throws -> Duration? {
        guard record.mappingProtocol.0 != .upnp else { return nil }
        let now = wallClock()
        return try registry.portControlMappings(gatewayID: record.id).compactMap { PortControlGateway.renewalDue($0, at: now) }.min()
    }

    /// The soonest renewal among the declared mappings the table holds.
    static func nextRenewal(declared: [DeclaredMapping], table: [PortMappingEntry]) -> Duration? {
        let current = Dictionary(table.map { (MappingKey($0), $0) }, uniquingKeysWith: { a, _ in a })
        return declared.compactMap { mapping in
            current[mapping.key].flatMap { Planner.renewalDue(declaredLease: mapping.leaseDuration, current: $0) }
        }.min()
    }
}
