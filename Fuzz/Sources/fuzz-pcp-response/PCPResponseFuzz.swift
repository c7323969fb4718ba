import FuzzSupport
import IGDProtocol
import PCPProtocol

/// A datagram received in answer to a PCP request.
/// Input: byte 0 picks the opcode answered (bit 0: ANNOUNCE or MAP) and the MAP request it is
/// checked against (bit 1: UDP or TCP, bit 2: create or delete); the rest is the datagram.
/// Contract: `PCP.Answer(decoding:answering:)` throws PCPViolation (its only error, typed) or
/// returns an answer that re-encodes to at most 1100 bytes decoded back equal; a MAP success
/// always has its MAP fields; `check(answering:)` passes only the request's nonce, protocol and
/// internal port, and a create only with a port and a lifetime granted.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPCPResponse(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = Contract.bytes(data, size)
    guard let selector = input.first else { return 0 }
    let datagram = Array(input.dropFirst())
    let opcode: PCP.Opcode = selector & 1 == 0 ? .announce : .map
    guard let answer = try? PCP.Answer(decoding: datagram, answering: opcode) else { return 0 }
    let encoded = answer.encoded()
    Contract.require(encoded.count <= PCP.maxMessageBytes, "re-encoded to \(encoded.count) bytes")
    Contract.require((try? PCP.Answer(decoding: encoded, answering: opcode)) == answer,
                     "PCP answer did not survive its round trip:\n value: \(answer)\n bytes: \(Hex.string(encoded))")
    guard case .pcp(let response) = answer else { return 0 }
    Contract.require(response.opcode == opcode, "decoded an answer to \(response.opcode) as one to \(opcode)")
    Contract.require(opcode == .announce || response.result != .success || response.map != nil, "a MAP success without MAP fields: \(Hex.string(datagram))")
    let nonce = PCP.Nonce(bytes: Array(1 ... 12))!
    let request = PCP.MapRequest(
        nonce: nonce, protocol: selector & 2 == 0 ? .udp : .tcp, internalPort: 8080,
        lifetime: selector & 4 == 0 ? 7200 : 0, clientAddress: IPv4Address(192, 168, 1, 10))
    if (try? response.check(answering: request)) != nil, let map = response.map {
        Contract.require(map.nonce == nonce && map.protocol == request.protocol && map.internalPort == request.internalPort,
                         "accepted an answer for another mapping: \(response)")
        if response.result == .success {
            Contract.require(request.isDelete ? response.lifetime == 0 : map.assignedExternalPort != 0 && response.lifetime != 0 && map.assignedExternalAddress != nil,
                             "accepted a success that grants nothing (or keeps a deleted mapping): \(response)")
        }
    }
    return 0
}
