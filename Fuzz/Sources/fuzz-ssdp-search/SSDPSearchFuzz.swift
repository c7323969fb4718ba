import FuzzSupport
import IGDProtocol

/// An M-SEARCH answer as a gateway (or anyone on the LAN) may send it.
/// Contract: `SSDP.parseSearchResponse` returns nil (not a search response), a response that
/// re-encodes to a datagram parsed back to the same response, or throws ProtocolViolation.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSSDPSearch(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Contract.bytes(data, size)
    let response: SSDP.SearchResponse?
    do {
        response = try SSDP.parseSearchResponse(bytes)
    } catch is ProtocolViolation {
        return 0
    } catch {
        Contract.undocumented(error, from: "SSDP.parseSearchResponse")
    }
    guard let response else { return 0 }
    let encoded = SSDPWriter.searchResponse(response)
    // The canonical form may outgrow the datagram cap by its longer start line and header names.
    guard encoded.count <= SSDP.maxDatagramBytes else { return 0 }
    Contract.roundTrip(response, encoded: encoded, "SSDP search response") { bytes in
        guard let again = try SSDP.parseSearchResponse(bytes) else { throw ProtocolViolation("not a search response any more") }
        return again
    }
    return 0
}
