import FuzzSupport
import IGDProtocol

/// A NOTIFY announcement as anyone on the LAN may multicast it.
/// Contract: `SSDP.parseNotify` returns nil (not a NOTIFY), an announcement that re-encodes to a
/// datagram parsed back to the same announcement, or throws ProtocolViolation.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSSDPNotify(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Contract.bytes(data, size)
    let notify: SSDP.Notify?
    do {
        notify = try SSDP.parseNotify(bytes)
    } catch is ProtocolViolation {
        return 0
    } catch {
        Contract.undocumented(error, from: "SSDP.parseNotify")
    }
    guard let notify else { return 0 }
    let encoded = SSDPWriter.notify(notify)
    guard encoded.count <= SSDP.maxDatagramBytes else { return 0 }
    Contract.roundTrip(notify, encoded: encoded, "SSDP NOTIFY") { bytes in
        guard let again = try SSDP.parseNotify(bytes) else { throw ProtocolViolation("not a NOTIFY any more") }
        return again
    }
    return 0
}
