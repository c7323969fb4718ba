import FuzzSupport
import IGDProtocol
import PCPProtocol

/// A NAT-PMP answer as a gateway (or anyone who can reach our port) may send it.
/// Input: byte 0 picks the decoder (bit 0: 0 external address, 1 mapping) and, for a mapping,
/// the request it is checked against (bit 1: UDP or TCP, bit 2: create or delete); the rest is
/// the datagram.
/// Contract: the decoder throws PCPViolation (its only error, typed) or returns a value that
/// re-encodes to a datagram decoded back equal; a success always carries its address or
/// mapping; `check(answering:)` passes a create only with a port and a lifetime granted.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNATPMPResponse(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = Contract.bytes(data, size)
    guard let selector = input.first else { return 0 }
    let datagram = Array(input.dropFirst())
    if selector & 1 == 0 {
        guard let response = try? NATPMP.ExternalAddressResponse(decoding: datagram) else { return 0 }
        Contract.require(response.result != .success || response.externalAddress != nil, "a success without an address: \(Hex.string(datagram))")
        let encoded = response.encoded()
        Contract.require((try? NATPMP.ExternalAddressResponse(decoding: encoded)) == response,
                         "external-address answer did not survive its round trip:\n value: \(response)\n bytes: \(Hex.string(encoded))")
        return 0
    }
    guard let response = try? NATPMP.MapResponse(decoding: datagram) else { return 0 }
    Contract.require(response.result != .success || response.mapping != nil, "a success without a mapping: \(Hex.string(datagram))")
    let encoded = response.encoded()
    Contract.require((try? NATPMP.MapResponse(decoding: encoded)) == response,
                     "mapping answer did not survive its round trip:\n value: \(response)\n bytes: \(Hex.string(encoded))")
    let proto: TransportProtocol = selector & 2 == 0 ? .udp : .tcp
    let request = selector & 4 == 0
        ? NATPMP.MapRequest(protocol: proto, internalPort: 8080, suggestedExternalPort: 8080, lifetime: 7200)
        : NATPMP.MapRequest.delete(protocol: proto, internalPort: 8080)
    if (try? response.check(answering: request)) != nil, response.result == .success, let mapping = response.mapping {
        Contract.require(mapping.internalPort == request.internalPort && response.protocol == request.protocol,
                         "accepted an answer for another mapping: \(response)")
        Contract.require(request.isDelete ? mapping.lifetime == 0 : mapping.externalPort != 0 && mapping.lifetime != 0,
                         "accepted a success that grants nothing (or keeps a deleted mapping): \(response)")
    }
    return 0
}
