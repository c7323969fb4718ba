import FuzzSupport
import IGDProtocol

/// A SOAP control answer: the first input byte picks the HTTP status and the action asked,
/// the rest is the body.
/// Contract (SOAPResponse.decode's documentation): success only with status 200, and the
/// output arguments re-encode to an answer decoded to the same values; a UPnP fault throws
/// UPnPError (whatever the status), which re-encodes to a fault decoded to the same error; a
/// status other than 200 without a readable fault throws UnexpectedHTTPStatus naming that
/// status and action; a 200 that is not a proper answer throws ProtocolViolation. Nothing else.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSOAPResponse(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = Contract.bytes(data, size)
    guard let selector = input.first else { return 0 }
    let statuses = [200, 500, 200, 400, 200, 500, 404, 302]
    let status = statuses[Int(selector & 0x07)]
    let action = ActionNames.all[Int(selector >> 3) % ActionNames.all.count]
    let body = Array(input.dropFirst())

    do {
        let response = try SOAPResponse.decode(action: action, status: status, body: body)
        Contract.require(status == 200, "a \(status) answer decoded as a success")
        Contract.require(response.action == action, "decoded as \(response.action), asked \(action)")
        let encoded = SOAPWriter.response(action: action, values: response.values.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        Contract.roundTrip(response, encoded: encoded, "SOAP response") { try SOAPResponse.decode(action: action, status: 200, body: $0) }
    } catch let fault as UPnPError {
        let encoded = SOAPWriter.fault(fault)
        do {
            _ = try SOAPResponse.decode(action: action, status: 500, body: encoded)
            Contract.require(false, "re-encoded fault \(fault) decoded as a success")
        } catch let again as UPnPError {
            Contract.require(again == fault, "fault \(fault) re-encoded and decoded as \(again)")
        } catch {
            Contract.require(false, "re-encoded fault \(fault) threw \(error)")
        }
    } catch let unexpected as UnexpectedHTTPStatus {
        Contract.require(status != 200, "UnexpectedHTTPStatus for a 200 answer")
        Contract.require(unexpected == UnexpectedHTTPStatus(status: status, action: action), "UnexpectedHTTPStatus \(unexpected) for \(status) \(action)")
    } catch is ProtocolViolation {
        Contract.require(status == 200, "ProtocolViolation for a \(status) answer (UnexpectedHTTPStatus documented)")
    } catch {
        Contract.undocumented(error, from: "SOAPResponse.decode")
    }
    return 0
}
