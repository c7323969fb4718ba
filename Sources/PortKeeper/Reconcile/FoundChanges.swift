import IGDProtocol
import MappingRegistry
import PortKeeperModel

extension Keeper {
    /// What changed on the gateway since the last reconcile that portkeeper did not do:
    /// its own entries lost (a reboot, a lease expiry, a cleanup) or changed by someone else.
    ///
    /// Also this host's address changing (DHCP): the mappings declared for "this host" move
    /// with it (the plan updates them), and entries of other programs still pointing at the old
    /// address are reported.
    func foundChanges(gateway: GatewayRecord, actual: [PortMappingEntry], owned: Set<MappingKey>,
                      declared: [DeclaredMapping], host: IPv4Address) throws -> [Change] {
        guard let last = try registry.lastObservation(gatewayID: gateway.id) else { return [] }
        var addressChanges: [Change] = []
        let followers = Set(declared.filter { $0.client == .thisHost }.map(\.key))
        let oldAddresses = Set(last.filter { followers.contains(MappingKey($0)) && owned.contains(MappingKey($0)) }.map(\.internalClient))
            .subtracting([host.description]).filter { IPv4Address($0) != nil }
        for old in oldAddresses.sorted() {
            addressChanges.append(Change(.hostAddressChanged, nil, "this host's address changed from \(old) to \(host): mappings declared for this host move with it"))
            for entry in actual where !owned.contains(MappingKey(entry)) && entry.internalClient == old {
                addressChanges.append(Change(.foundChanged, MappingKey(entry), "\(entry.internalClient):\(entry.internalPort) '\(entry.description)' is not portkeeper's and still points at this host's old address \(old)",
                                         after: MappingState(entry)))
            }
        }
        let now = Dictionary(actual.map { (MappingKey($0), $0) }, uniquingKeysWith: { first, _ in first })
        var changes: [Change] = []
        var lost = 0
        let ours = last.filter { owned.contains(MappingKey($0)) }
        for entry in ours {
            let key = MappingKey(entry)
            guard let current = now[key] else {
                lost += 1
                changes.append(Change(.foundMissing, key, "\(entry.internalClient):\(entry.internalPort) '\(entry.description)' is gone from the gateway", before: MappingState(entry)))
                continue
            }
            if current.internalClient != entry.internalClient || current.internalPort != entry.internalPort {
                changes.append(Change(.foundChanged, key, "now → \(current.internalClient):\(current.internalPort) (was \(entry.internalClient):\(entry.internalPort))",
                                      before: MappingState(entry), after: MappingState(current)))
            }
        }
        if lost > 1 && lost == ours.count {
            changes.insert(Change(.foundMissing, nil, "all \(lost) of portkeeper's mappings are gone: the gateway probably rebooted"), at: 0)
        }
        return addressChanges + changes
    }
}
