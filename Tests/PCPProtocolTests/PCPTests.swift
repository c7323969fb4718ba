import IGDProtocol
import Testing
@testable import PCPProtocol

@Suite("PCP codecs")
struct PCPTests {
    func decode(_ bytes: [UInt8], _ opcode: PCP.Opcode = .map) throws -> PCP.Response {
        guard case .pcp(let response) = try PCP.Answer(decoding: bytes, answering: opcode) else {
            Issue.record("a NAT-PMP refusal, not a PCP answer")
            throw PCPViolation("not a PCP answer")
        }
        return response
    }

    @Test("ANNOUNCE is the bare header: version 2, opcode 0, lifetime 0, the client address IPv4-mapped")
    func announceRequest() {
        #expect(PCP.AnnounceRequest(clientAddress: Vectors.lan).encoded() == Vectors.pcpAnnounceRequest)
    }

    @Test("MAP carries the header, the nonce, protocol 6, the ports and ::ffff:0.0.0.0 as no address preference")
    func mapRequest() {
        #expect(Vectors.mapRequest().encoded() == Vectors.pcpMapRequest)
    }

    @Test("MAP for UDP carries protocol 17, and a suggested port and address where given")
    func mapRequestSuggestions() {
        let request = PCP.MapRequest(
            nonce: Vectors.nonce, protocol: .udp, internalPort: 51413, suggestedExternalPort: 51413,
            suggestedExternalAddress: Vectors.external, lifetime: 0, clientAddress: Vectors.lan)
        let bytes = request.encoded()
        #expect(bytes.count == 60)
        #expect(bytes[4 ..< 8].allSatisfy { $0 == 0 })
        #expect(bytes[36] == 17)
        #expect(Array(bytes[40 ..< 44]) == [0xc8, 0xd5, 0xc8, 0xd5])
        #expect(Array(bytes[44 ..< 60]) == Vectors.hex("00 00 00 00 00 00 00 00 00 00 ff ff c6 33 64 07"))
        #expect(request.isDelete)
    }

    @Test("A MAP success gives lifetime, epoch, nonce, protocol, ports and the external address")
    func mapResponse() throws {
        let response = try decode(Vectors.pcpMapResponse)
        let fields = PCP.MapFields(nonce: Vectors.nonce, protocol: .tcp, internalPort: 8080, assignedExternalPort: 8080, assignedExternalAddress: Vectors.external)
        #expect(response == PCP.Response(opcode: .map, result: .success, lifetime: 7200, epochTime: 42, map: fields))
        #expect(response.encoded() == Vectors.pcpMapResponse)
        try response.check(answering: Vectors.mapRequest())
    }

    @Test("A MAP error answer with the request's fields copied is its refusal")
    func mapError() throws {
        let response = try decode(Vectors.pcpMapNoResources)
        #expect(response.result == .noResources)
        #expect(response.result.isShortLifetimeError)
        #expect(response.lifetime == 30)
        #expect(response.map?.assignedExternalAddress == PCP.MapRequest.anyAddress)
        #expect(response.encoded() == Vectors.pcpMapNoResources)
        try response.check(answering: Vectors.mapRequest())
    }

    @Test("A MAP error answer may stop after the header; it names no mapping")
    func headerOnlyError() throws {
        let response = try decode(Vectors.pcpMapHeaderOnlyError)
        #expect(response.result == .malformedRequest)
        #expect(response.map == nil)
        #expect(response.encoded() == Vectors.pcpMapHeaderOnlyError)
        try response.check(answering: Vectors.mapRequest())
    }

    @Test("A MAP success that stops after the header is refused")
    func headerOnlySuccess() {
        var bytes = Vectors.pcpMapHeaderOnlyError
        bytes[3] = 0
        #expect(throws: PCPViolation("PCP MAP answer of 24 bytes: the 36-byte MAP fields are cut short")) { try decode(bytes) }
    }

    @Test("An error answer may leave the external address all zeros")
    func errorWithZeroAddress() throws {
        var bytes = Vectors.pcpMapNoResources
        bytes[54] = 0
        bytes[55] = 0
        let response = try decode(bytes)
        #expect(response.map?.assignedExternalAddress == nil)
        #expect(response.encoded() == bytes)
    }

    @Test("A success whose external address is not IPv4-mapped is refused")
    func successWithIPv6Address() {
        var bytes = Vectors.pcpMapResponse
        bytes[54] = 0
        #expect(throws: PCPViolation("PCP MAP answer assigns an external address that is not IPv4-mapped")) { try decode(bytes) }
    }

    @Test("The ANNOUNCE answer gives the epoch")
    func announceResponse() throws {
        let response = try decode(Vectors.pcpAnnounceResponse, .announce)
        #expect(response == PCP.Response(opcode: .announce, result: .success, lifetime: 0, epochTime: 7))
        #expect(response.encoded() == Vectors.pcpAnnounceResponse)
    }

    @Test("Options are read by their length and padding, and kept")
    func optionSkipped() throws {
        let response = try decode(Vectors.pcpMapResponseWithOption)
        #expect(response.options == [PCP.Option(code: 128, data: [0xaa, 0xbb, 0xcc, 0xdd, 0xee])])
        #expect(response.map?.assignedExternalPort == 8080)
        #expect(response.encoded() == Vectors.pcpMapResponseWithOption)
    }

    @Test("An option whose length runs past the end is refused")
    func optionPastTheEnd() {
        let bytes = Vectors.pcpMapResponse + Vectors.hex("80 00 00 05 | aa bb cc dd")
        #expect(throws: PCPViolation("PCP option 128 of 5 bytes at byte 60 runs past the end of the 68-byte answer")) { try decode(bytes) }
        let huge = Vectors.pcpMapResponse + Vectors.hex("01 00 ff ff")
        #expect(throws: PCPViolation("PCP option 1 of 65535 bytes at byte 60 runs past the end of the 64-byte answer")) { try decode(huge) }
    }

    @Test("Trailing bytes that are not a multiple of 4 are refused")
    func trailingGarbage() {
        #expect(throws: PCPViolation("PCP answer of 63 bytes, not a multiple of 4")) { try decode(Vectors.pcpMapResponse + [1, 2, 3]) }
    }

    @Test("The 1100-byte limit holds, and an answer of exactly 1100 bytes is read")
    func sizeLimit() throws {
        let filler = [UInt8](repeating: 0x5a, count: 1100 - 60 - 4)
        let full = Vectors.pcpMapResponse + [0x80, 0, UInt8(filler.count >> 8), UInt8(filler.count & 0xff)] + filler
        #expect(full.count == 1100)
        #expect(try decode(full).options.first?.data == filler)
        #expect(throws: PCPViolation("PCP answer of 1104 bytes, over the 1100-byte limit")) { try decode(full + [0x80, 0, 0, 0]) }
    }

    @Test("Every truncation of a MAP success is refused", arguments: 0 ..< 60)
    func truncated(length: Int) {
        #expect(throws: PCPViolation.self) { try decode(Array(Vectors.pcpMapResponse.prefix(length))) }
    }

    @Test("Another version is refused, and a server's UNSUPP_VERSION says it does not speak 2")
    func wrongVersion() {
        var bytes = Vectors.pcpMapResponse
        bytes[0] = 3
        #expect(throws: PCPViolation("PCP answer with version 3, not 2")) { try decode(bytes) }
        bytes[0] = 1
        bytes[3] = 1
        #expect(throws: PCPViolation("PCP server answers UNSUPP_VERSION with version 1: it does not speak version 2")) { try decode(bytes) }
    }

    @Test("A datagram without the R bit is a request, not an answer")
    func missingResponseBit() {
        #expect(throws: PCPViolation("PCP datagram without the R bit (opcode 1): a request, not an answer")) { try decode(Vectors.pcpMapRequest) }
    }

    @Test("An answer to another opcode is refused")
    func wrongOpcode() {
        #expect(throws: PCPViolation("PCP answer to opcode 0, not 1 (MAP)")) { try decode(Vectors.pcpAnnounceResponse) }
        #expect(throws: PCPViolation("PCP answer to opcode 1, not 0 (ANNOUNCE)")) { try decode(Vectors.pcpMapResponse, .announce) }
        var peer = Vectors.pcpMapResponse
        peer[1] = 0x82
        #expect(throws: PCPViolation("PCP answer to opcode 2, not 1 (MAP)")) { try decode(peer) }
    }

    @Test("A protocol other than TCP or UDP is refused")
    func otherProtocol() {
        var bytes = Vectors.pcpMapResponse
        bytes[36] = 0
        #expect(throws: PCPViolation("PCP MAP answer for protocol 0, not TCP (6) or UDP (17)")) { try decode(bytes) }
    }

    @Test("An answer with another nonce, protocol or internal port does not answer the request")
    func otherRequest() throws {
        let response = try decode(Vectors.pcpMapResponse)
        #expect(throws: PCPViolation("PCP MAP answer with nonce 0102030405060708090a0b0c, not this mapping's 65666768696a6b6c6d6e6f70")) {
            try response.check(answering: Vectors.mapRequest(nonce: Vectors.otherNonce))
        }
        var udp = Vectors.mapRequest()
        udp.protocol = .udp
        #expect(throws: PCPViolation("PCP MAP answer for a TCP mapping, not the UDP one asked for")) { try response.check(answering: udp) }
        var port = Vectors.mapRequest()
        port.internalPort = 8081
        #expect(throws: PCPViolation("PCP MAP answer for internal port 8080, not 8081")) { try response.check(answering: port) }
        let announce = try decode(Vectors.pcpAnnounceResponse, .announce)
        #expect(throws: PCPViolation("PCP ANNOUNCE answer, not an answer to MAP")) { try announce.check(answering: Vectors.mapRequest()) }
    }

    @Test("A success that grants no port or no lifetime, or keeps a deleted mapping, is refused")
    func grantsNothing() throws {
        var response = try decode(Vectors.pcpMapResponse)
        response.map?.assignedExternalPort = 0
        #expect(throws: PCPViolation("PCP MAP success for internal port 8080 assigns external port 0")) { try response.check(answering: Vectors.mapRequest()) }
        response = try decode(Vectors.pcpMapResponse)
        response.lifetime = 0
        #expect(throws: PCPViolation("PCP MAP success for internal port 8080 grants a lifetime of 0 s")) { try response.check(answering: Vectors.mapRequest()) }
        try response.check(answering: Vectors.mapRequest(lifetime: 0))
        response.lifetime = 120
        #expect(throws: PCPViolation("PCP answer to a delete of internal port 8080 keeps it for 120 s")) { try response.check(answering: Vectors.mapRequest(lifetime: 0)) }
    }

    @Test("A NAT-PMP server's version-0 UNSUPP_VERSION is recognised, whatever its opcode byte", arguments: [
        Vectors.natpmpRefusesPCPMiniupnpd, Vectors.natpmpRefusesPCPRFC,
    ])
    func natpmpFallback(bytes: [UInt8]) throws {
        let answer = try PCP.Answer(decoding: bytes, answering: .map)
        #expect(answer == .natPMPUnsupportedVersion(secondsSinceStartOfEpoch: 7))
        #expect(answer.encoded() == Vectors.natpmpRefusesPCPRFC)
    }

    @Test("A version-0 answer with another result or length is refused")
    func natpmpOtherAnswers() {
        #expect(throws: PCPViolation("version-0 (NAT-PMP) answer to a PCP request with NAT-PMP result 2 (Not Authorized/Refused), not 1 (Unsupported Version)")) {
            try PCP.Answer(decoding: Vectors.hex("00 81 00 02 00 00 00 07"), answering: .map)
        }
        #expect(throws: PCPViolation("version-0 (NAT-PMP) answer of 9 bytes; it has 8, 12 or 16")) {
            try PCP.Answer(decoding: Vectors.natpmpRefusesPCPMiniupnpd + [0], answering: .map)
        }
        #expect(throws: PCPViolation("version-0 (NAT-PMP) answer of 1 bytes; it has 8, 12 or 16")) {
            try PCP.Answer(decoding: [0], answering: .announce)
        }
    }

    static let resultNames: [(UInt8, PCP.ResultCode, String)] = [
        (0, .success, "SUCCESS"), (1, .unsupportedVersion, "UNSUPP_VERSION"), (2, .notAuthorized, "NOT_AUTHORIZED"),
        (3, .malformedRequest, "MALFORMED_REQUEST"), (4, .unsupportedOpcode, "UNSUPP_OPCODE"),
        (5, .unsupportedOption, "UNSUPP_OPTION"), (6, .malformedOption, "MALFORMED_OPTION"),
        (7, .networkFailure, "NETWORK_FAILURE"), (8, .noResources, "NO_RESOURCES"),
        (9, .unsupportedProtocol, "UNSUPP_PROTOCOL"), (10, .userExceededQuota, "USER_EX_QUOTA"),
        (11, .cannotProvideExternal, "CANNOT_PROVIDE_EXTERNAL"), (12, .addressMismatch, "ADDRESS_MISMATCH"),
        (13, .excessiveRemotePeers, "EXCESSIVE_REMOTE_PEERS"),
    ]

    @Test("Result codes 0 to 13 carry the RFC's names", arguments: resultNames)
    func resultCodes(code: UInt8, result: PCP.ResultCode, name: String) throws {
        #expect(PCP.ResultCode(code: code) == result)
        #expect(result.code == code)
        #expect(result.name == name)
        #expect(result.description == "PCP result \(code) \(name)")
        var bytes = Vectors.pcpMapNoResources
        bytes[3] = code
        #expect(try decode(bytes).result == result)
    }

    @Test("An unknown result code is kept as sent", arguments: [UInt8(14), 127, 128, 255])
    func unknownResult(code: UInt8) throws {
        var bytes = Vectors.pcpMapNoResources
        bytes[3] = code
        let response = try decode(bytes)
        #expect(response.result == .unknown(code))
        #expect(response.result.name == nil)
        #expect(response.result.description == "PCP result \(code)")
        #expect(response.encoded() == bytes)
    }

    @Test("A nonce reads and writes as 24 hexadecimal digits and is 12 bytes or nothing")
    func nonceText() {
        #expect(Vectors.nonce.description == "0102030405060708090a0b0c")
        #expect(PCP.Nonce(hex: "0102030405060708090A0B0C") == Vectors.nonce)
        #expect(PCP.Nonce(hex: "0102030405060708090a0b0") == nil)
        #expect(PCP.Nonce(hex: "0102030405060708090a0b0g") == nil)
        #expect(PCP.Nonce(bytes: Array(1 ... 11)) == nil)
    }

    @Test("A random nonce draws its 12 bytes from the generator it is given")
    func randomNonce() {
        var first = SplitMix(seed: 1)
        var again = SplitMix(seed: 1)
        var other = SplitMix(seed: 2)
        let nonce = PCP.Nonce.random(using: &first)
        #expect(nonce == PCP.Nonce.random(using: &again))
        #expect(nonce != PCP.Nonce.random(using: &other))
        #expect(nonce.bytes.count == 12)
    }
}

/// A seeded generator, so the nonce test is repeatable.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
