import Foundation
import IGDClient
import IGDProtocol
import MappingRegistry
import PortKeeperModel

/// What a gateway granted for a declared mapping, as the registry knows it without asking the
/// network: what `mappings` and `list` show, so that a script can configure an application
/// with the external port the router really gave (PCP and NAT-PMP may give another one).
public struct GrantedMapping: Sendable, Equatable {
    /// The declared key.
    public var key: MappingKey
    /// The protocol it was made over.
    public var via: GatewayProtocol
    /// The external port the gateway maps (over UPnP IGD, the declared one).
    public var externalPort: UInt16
    /// The external address it maps, when known.
    public var externalAddress: String?
    /// The lifetime granted at the last answer (PCP and NAT-PMP).
    public var lifetime: UInt32?
    /// When portkeeper last had it confirmed (PCP and NAT-PMP: the last grant).
    public var verified: Date?
    /// When it lapses unless renewed (PCP and NAT-PMP).
    public var expires: Date?

    /// The grants the registry knows for `gateway`'s mappings, by key: PCP and NAT-PMP from
    /// their last answers; UPnP IGD from the table last read, for entries pointing where declared.
    public static func known(on gateway: GatewayRecord, declared: [DeclaredMapping], registry: Registry) throws -> [MappingKey: GrantedMapping] {
        var granted: [MappingKey: GrantedMapping] = [:]
        for mapping in try registry.portControlMappings(gatewayID: gateway.id) where mapping.granted != nil {
            granted[mapping.key] = GrantedMapping(key: mapping.key, via: mapping.via, externalPort: mapping.assignedExternalPort ?? mapping.key.externalPort,
                                                  externalAddress: mapping.assignedExternalAddress?.description ?? gateway.externalAddress,
                                                  lifetime: mapping.lifetime, verified: mapping.granted, expires: mapping.expires)
        }
        guard gateway.mappingProtocol.0 == .upnp else { return granted }
        let owned = try registry.ownedKeys(gatewayID: gateway.id)
        for entry in try registry.lastObservation(gatewayID: gateway.id) ?? [] where owned.contains(MappingKey(entry)) {
            let key = MappingKey(entry)
            guard declared.contains(where: { $0.key == key }) else { continue }
            granted[key] = GrantedMapping(key: key, via: .upnp, externalPort: key.externalPort, externalAddress: gateway.externalAddress)
        }
        return granted
    }
}
