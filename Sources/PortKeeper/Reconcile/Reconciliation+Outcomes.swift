import IGDClient
import IGDProtocol
import MappingRegistry
import PortKeeperModel

/// How the outcome of an operation is told: from the gateway's answer while acting, or by
/// reading its table afterwards when the answer never came.
extension Reconciliation {
    /// Sends one operation and maps what it threw to a journal outcome, keeping the error.
    static func outcome(of action: OperationAction, _ entry: PortMappingEntry, on gateway: any MappingGateway) async -> (OperationOutcome, (any Error)?) {
        do {
            switch action {
            case .add: try await gateway.add(entry)
            case .delete: try await gateway.delete(entry)
            }
            return (.ok, nil)
        } catch let error as UPnPError {
            return (.upnp(error.code), error)
        } catch let error as PortControlRefusal {
            // A result code: the gateway answered, and did not do it.
            return (.failed("the gateway answered \(error.result)"), error)
        } catch {
            // A timeout or a broken answer: the gateway may have acted. Resolved by reading.
            return (.unknown("\(error)"), error)
        }
    }

    /// What an operation of unknown outcome did, told by the gateway's table.
    static func outcomeByReading(_ operation: JournaledOperation, table: [PortMappingEntry]) -> OperationOutcome {
        let present = table.first { MappingKey($0) == operation.key }
        switch operation.action {
        case .add:
            return present != nil && present?.internalClient == operation.entry?.internalClient ? .ok : .failed("not on the gateway when read")
        case .delete:
            return present == nil ? .ok : .failed("still on the gateway when read")
        }
    }

    /// A failure after which nothing more is sent to the gateway: it did not answer in time,
    /// refused the connection, or the command's deadline ran out.
    static func meansUnreachable(_ error: any Error) -> Bool {
        if error is DeadlineExceeded { return true }
        if let error = error as? TransportError { return error.suggestsGatewayMoved }
        return false
    }
}
