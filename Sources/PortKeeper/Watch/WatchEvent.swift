import IGDProtocol
import PortKeeperModel

/// What `watch` saw and did, in order. The library never words them: the CLI turns each into
/// the log line the README documents.
public enum WatchEvent: Sendable {
    /// Watching began: the gateway, how many mappings are declared on it, the interval.
    case started(gateway: String, udn: String, declared: Int, interval: Duration)
    /// The gateway's announcements cannot be heard; the periodic check carries on alone.
    case notListening(error: any Error, interval: Duration)

    // What the gateway announced, each followed by a look at once.
    /// It is leaving (`ssdp:byebye`).
    case announcedLeaving
    /// It restarted: a new BOOTID.
    case announcedRestart(bootID: UInt32, was: UInt32)
    /// Its description is somewhere else now.
    case announcedMove(location: String)
    /// It is back, after it went away.
    case announcedReturn
    /// Its PCP or NAT-PMP server announced its epoch (`seconds` since its mapping state began)
    /// on 224.0.0.1:5350: it restarted and may have lost every mapping.
    case announcedEpoch(seconds: UInt32, over: GatewayProtocol)
    /// Its NAT-PMP server announced another external address, its epoch unbroken: the
    /// mappings stand, reached at `address` now.
    case announcedAddress(address: String)

    /// Its uptime went down: it rebooted, whether it said so or not.
    case rebooted(uptime: UInt32, was: UInt32)
    /// The gateway holds exactly what is declared.
    case verified(gateway: String)
    /// A look is over and the gateway answered it: how many mappings are declared on the
    /// gateway (`udn`) and how many of them it still lacks, after whatever the look repaired.
    /// Told after every look that reached the gateway, in sync or not; never after one that
    /// failed or was stopped.
    case checked(gateway: String, udn: String, declared: Int, missing: Int)

    // What a reconcile found and did (the details are the revision's own).
    /// The gateway answers at a new URL, found again by its UDN ("OLD → NEW").
    case moved(detail: String)
    /// The gateway's external address changed.
    case externalAddressChanged(detail: String)
    /// This host's address changed, and the mappings for "this host" moved with it.
    case hostAddressChanged(detail: String)
    /// Mappings written again: `lostOnGateway` when the gateway had lost them, `afterReboot`
    /// when the look was for a restart.
    case restored(count: Int, lostOnGateway: Bool, afterReboot: Bool, revision: Int64?)
    /// Leases renewed before they ran out.
    case renewed(count: Int)
    /// Mappings written again because they differed from the declaration.
    case updated(count: Int)
    /// Mappings removed: portkeeper created them and they are no longer declared.
    case deleted(count: Int)
    /// One operation the gateway refused (told only while the gateway answers).
    case operationFailed(PortKeeperError)
    /// How many operations failed; they are tried again at the next look.
    case operationsFailed(count: Int)
    /// An entry of the gateway's table that makes no sense, left alone.
    case ignored(entry: InvalidPortMappingEntry, gateway: String)
    /// After a reconcile, the gateway still differs from the declaration.
    case notInSync(gateway: String)

    /// The gateway does not answer after it said it was leaving (`afterByebye`) or after an
    /// announcement; it is looked at again when it announces itself, and soon regardless.
    case away(afterByebye: Bool)
    /// A look failed; the next one comes `after` this long.
    case retrying(error: any Error, after: Duration)
    /// A stop request ended the watch.
    case stopped

    /// What a reconcile for `reason` did, as events in the order they are told.
    static func events(of result: WatchReconcile, reason: WakeReason) -> [WatchEvent] {
        var events: [WatchEvent] = result.changes.filter { $0.key == nil }.compactMap { change in
            switch change.kind {
            case .gatewayMoved: .moved(detail: change.detail)
            case .addressChanged: .externalAddressChanged(detail: change.detail)
            case .hostAddressChanged: .hostAddressChanged(detail: change.detail)
            default: nil
            }
        }
        let count = Dictionary(grouping: result.changes.filter { $0.key != nil }, by: \.kind).mapValues(\.count)
        if let restored = count[.added] {
            events.append(.restored(count: restored, lostOnGateway: count[.foundMissing] != nil,
                                    afterReboot: reason == .restart, revision: result.revision))
        }
        if let renewed = count[.renewed] { events.append(.renewed(count: renewed)) }
        if let updated = count[.updated] { events.append(.updated(count: updated)) }
        if let deleted = count[.deleted] { events.append(.deleted(count: deleted)) }
        if let failed = count[.failed] {
            // A gateway that stopped answering is told as the error it is, not per operation.
            if result.unreachable == nil { events += result.failures.map(WatchEvent.operationFailed) }
            events.append(.operationsFailed(count: failed))
        }
        events += result.ignored.map { .ignored(entry: $0, gateway: result.gateway.friendlyName) }
        if result.changes.isEmpty {
            events.append(.verified(gateway: result.gateway.friendlyName))
        } else if !result.inSync {
            events.append(.notInSync(gateway: result.gateway.friendlyName))
        }
        return events
    }
}
