import FuzzSupport
import IGDProtocol

/// The answer to one of portkeeper's actions: the first input byte picks the action, the rest
/// is the body of a 200 answer.
/// Contract: the action's decoder returns a value that re-encodes to an answer decoded to an
/// equal value, or throws ProtocolViolation (or UPnPError, for a fault). Nothing else.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzActionResponses(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = Contract.bytes(data, size)
    guard let selector = input.first else { return 0 }
    let body = Array(input.dropFirst())
    let entry = PortMappingEntry(externalPort: 8080, protocol: .tcp, internalPort: 80, internalClient: "192.168.1.10", description: "fuzz")
    switch selector % 10 {
    case 0:
        exercise(Actions.GetExternalIPAddress(), body, encode: { [("NewExternalIPAddress", $0.reported)] }, same: ==)
    case 1:
        exercise(Actions.GetStatusInfo(), body, encode: {
            [("NewConnectionStatus", $0.connectionStatus), ("NewLastConnectionError", $0.lastConnectionError), ("NewUptime", String($0.uptime))]
        }, same: ==)
    case 2:
        exercise(Actions.GetConnectionTypeInfo(), body, encode: {
            [("NewConnectionType", $0.connectionType), ("NewPossibleConnectionTypes", $0.possibleConnectionTypes)]
        }, same: ==)
    case 3:
        exercise(Actions.GetGenericPortMappingEntry(index: 0), body, encode: entryArguments, same: ==)
    case 4:
        exercise(Actions.GetSpecificPortMappingEntry(externalPort: 8080, protocol: .tcp), body, encode: entryArguments, same: ==)
    case 5:
        exercise(Actions.GetListOfPortMappings(protocol: .tcp), body, encode: { [("NewPortListing", listing($0))] }, same: ==)
    case 6:
        exercise(Actions.AddPortMapping(entry), body, encode: { _ in [] }, same: { _, _ in true })
    case 7:
        exercise(Actions.AddAnyPortMapping(entry), body, encode: { [("NewReservedPort", String($0))] }, same: ==)
    case 8:
        exercise(Actions.DeletePortMapping(externalPort: 8080, protocol: .tcp), body, encode: { _ in [] }, same: { _, _ in true })
    default:
        exercise(Actions.DeletePortMappingRange(startPort: 1, endPort: 65535, protocol: .tcp), body, encode: { _ in [] }, same: { _, _ in true })
    }
    return 0
}

func exercise<A: IGDAction>(
    _ action: A, _ body: [UInt8], encode: (A.Response) -> [(name: String, value: String)], same: (A.Response, A.Response) -> Bool
) {
    let value: A.Response
    do {
        value = try action.decode(try SOAPResponse.decode(action: A.name, status: 200, body: body))
    } catch is ProtocolViolation {
        return
    } catch is UPnPError {
        return
    } catch {
        Contract.undocumented(error, from: "\(A.name) decoding")
    }
    let encoded = SOAPWriter.response(action: A.name, values: encode(value))
    let again: A.Response
    do {
        again = try action.decode(try SOAPResponse.decode(action: A.name, status: 200, body: encoded))
    } catch {
        fatalError("contract violated: \(A.name) answer re-encoded to one its decoder refuses (\(error)):\n\(String(decoding: encoded, as: UTF8.self))")
    }
    Contract.require(same(value, again), "\(A.name) answer re-encoded and decoded to another value:\n first: \(value)\n again: \(again)")
}

func entryArguments(_ entry: PortMappingEntry) -> [(name: String, value: String)] {
    [
        ("NewRemoteHost", entry.remoteHost), ("NewExternalPort", String(entry.externalPort)), ("NewProtocol", entry.protocol.rawValue),
        ("NewInternalPort", String(entry.internalPort)), ("NewInternalClient", entry.internalClient), ("NewEnabled", entry.enabled ? "1" : "0"),
        ("NewPortMappingDescription", entry.description), ("NewLeaseDuration", String(entry.leaseDuration)),
    ]
}

/// The PortMappingList document (WANIPConnection:2 §2.5.20) carried as NewPortListing's text.
func listing(_ entries: [PortMappingEntry]) -> String {
    var text = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<p:PortMappingList xmlns:p=\"urn:schemas-upnp-org:gw:WANIPConnection\">"
    for entry in entries {
        text += "<p:PortMappingEntry>"
        text += XMLWriter.leaf("p:NewRemoteHost", entry.remoteHost)
        text += XMLWriter.leaf("p:NewExternalPort", String(entry.externalPort))
        text += XMLWriter.leaf("p:NewProtocol", entry.protocol.rawValue)
        text += XMLWriter.leaf("p:NewInternalPort", String(entry.internalPort))
        text += XMLWriter.leaf("p:NewInternalClient", entry.internalClient)
        text += XMLWriter.leaf("p:NewEnabled", entry.enabled ? "1" : "0")
        text += XMLWriter.leaf("p:NewDescription", entry.description)
        text += XMLWriter.leaf("p:NewLeaseTime", String(entry.leaseDuration))
        text += "</p:PortMappingEntry>"
    }
    return text + "</p:PortMappingList>"
}
