import IGDProtocol
import Testing
@testable import PCPProtocol

@Suite("NAT-PMP codecs")
struct NATPMPTests {
    @Test("The external-address request is version 0, opcode 0")
    func addressRequest() {
        #expect(NATPMP.ExternalAddressRequest().encoded() == Vectors.natpmpAddressRequest)
    }

    @Test("A mapping request carries opcode, ports and lifetime big-endian after two reserved zero bytes")
    func mapRequest() {
        let request = NATPMP.MapRequest(protocol: .tcp, internalPort: 8080, suggestedExternalPort: 8080, lifetime: 7200)
        #expect(request.encoded() == Vectors.natpmpMapTCPRequest)
        #expect(!request.isDelete)
    }

    @Test("A delete is the mapping request with suggested port and lifetime 0")
    func deleteRequest() {
        let request = NATPMP.MapRequest.delete(protocol: .udp, internalPort: 51413)
        #expect(request.encoded() == Vectors.natpmpDeleteUDPRequest)
        #expect(request.isDelete)
    }

    @Test("An external-address answer gives the result, the epoch and the address")
    func addressResponse() throws {
        let response = try NATPMP.ExternalAddressResponse(decoding: Vectors.natpmpAddressResponse)
        #expect(response == NATPMP.ExternalAddressResponse(result: .success, secondsSinceStartOfEpoch: 42, externalAddress: Vectors.external))
        #expect(response.encoded() == Vectors.natpmpAddressResponse)
    }

    @Test("A mapping answer gives the protocol, internal and assigned port, lifetime and epoch")
    func mapResponse() throws {
        let response = try NATPMP.MapResponse(decoding: Vectors.natpmpMapTCPResponse)
        let mapping = NATPMP.MapResponse.Mapping(internalPort: 8080, externalPort: 8081, lifetime: 3600)
        #expect(response == NATPMP.MapResponse(protocol: .tcp, result: .success, secondsSinceStartOfEpoch: 256, mapping: mapping))
        #expect(response.encoded() == Vectors.natpmpMapTCPResponse)
        let request = NATPMP.MapRequest(protocol: .tcp, internalPort: 8080, suggestedExternalPort: 8080, lifetime: 7200)
        try response.check(answering: request)
    }

    @Test("An 8-byte error answer is a refusal that names no port")
    func shortError() throws {
        let response = try NATPMP.MapResponse(decoding: Vectors.natpmpMapShortError)
        #expect(response == NATPMP.MapResponse(protocol: .udp, result: .notAuthorized, secondsSinceStartOfEpoch: 5, mapping: nil))
        #expect(response.encoded() == Vectors.natpmpMapShortError)
        try response.check(answering: .delete(protocol: .udp, internalPort: 51413))
    }

    @Test("An 8-byte answer that claims success is refused: it grants nothing")
    func shortSuccess() {
        #expect(throws: PCPViolation("NAT-PMP mapping answer of 8 bytes reports success but names no port")) {
            try NATPMP.MapResponse(decoding: Vectors.hex("00 82 00 00 00 00 00 05"))
        }
        #expect(throws: PCPViolation("NAT-PMP external-address answer of 8 bytes reports success but carries no address")) {
            try NATPMP.ExternalAddressResponse(decoding: Vectors.hex("00 80 00 00 00 00 00 05"))
        }
    }

    @Test("Result codes 0 to 5 have the RFC's names; others are kept as sent", arguments: [
        (UInt16(0), NATPMP.ResultCode.success, "Success"), (1, .unsupportedVersion, "Unsupported Version"),
        (2, .notAuthorized, "Not Authorized/Refused"), (3, .networkFailure, "Network Failure"),
        (4, .outOfResources, "Out of resources"), (5, .unsupportedOpcode, "Unsupported opcode"),
    ])
    func resultCodes(code: UInt16, result: NATPMP.ResultCode, name: String) throws {
        #expect(NATPMP.ResultCode(code: code) == result)
        #expect(result.code == code)
        #expect(result.name == name)
        var bytes = Vectors.natpmpMapTCPResponse
        bytes[2] = UInt8(code >> 8)
        bytes[3] = UInt8(code & 0xff)
        #expect(try NATPMP.MapResponse(decoding: bytes).result == result)
    }

    @Test("An unknown result code is kept and described by its number")
    func unknownResult() throws {
        var bytes = Vectors.natpmpMapTCPResponse
        bytes[2] = 0x01
        bytes[3] = 0x02
        let response = try NATPMP.MapResponse(decoding: bytes)
        #expect(response.result == .unknown(258))
        #expect(response.result.description == "NAT-PMP result 258")
        #expect(response.encoded() == bytes)
    }

    @Test("Every truncation of a mapping answer is refused", arguments: 0 ..< 16)
    func truncatedMap(length: Int) {
        guard length != 8 else { return } // 8 bytes is the error-answer form, tested above with its own vector
        #expect(throws: PCPViolation.self) { try NATPMP.MapResponse(decoding: Array(Vectors.natpmpMapTCPResponse.prefix(length))) }
    }

    @Test("Every truncation of an address answer is refused", arguments: 0 ..< 12)
    func truncatedAddress(length: Int) {
        #expect(throws: PCPViolation.self) { try NATPMP.ExternalAddressResponse(decoding: Array(Vectors.natpmpAddressResponse.prefix(length))) }
    }

    @Test("Trailing bytes after an answer are refused")
    func trailingGarbage() {
        #expect(throws: PCPViolation("NAT-PMP mapping answer of 17 bytes; it has 16 (8 for an error)")) {
            try NATPMP.MapResponse(decoding: Vectors.natpmpMapTCPResponse + [0])
        }
        #expect(throws: PCPViolation("NAT-PMP external-address answer of 16 bytes; it has 12 (8 for an error)")) {
            try NATPMP.ExternalAddressResponse(decoding: Vectors.natpmpAddressResponse + [0, 0, 0, 0])
        }
    }

    @Test("Another version, a missing response bit and another opcode are refused")
    func headerChecks() {
        var version = Vectors.natpmpMapTCPResponse
        version[0] = 2
        #expect(throws: PCPViolation("NAT-PMP answer with version 2, not 0")) { try NATPMP.MapResponse(decoding: version) }
        #expect(throws: PCPViolation("NAT-PMP datagram without the response bit (opcode 2): a request, not an answer")) {
            try NATPMP.MapResponse(decoding: Vectors.natpmpMapTCPRequest + [0, 0, 0, 0])
        }
        #expect(throws: PCPViolation("NAT-PMP answer to opcode 0, not 1 (map UDP) or 2 (map TCP)")) {
            try NATPMP.MapResponse(decoding: Vectors.natpmpAddressResponse + [0, 0, 0, 0])
        }
        #expect(throws: PCPViolation("NAT-PMP answer to opcode 2, not 0 (external address)")) {
            try NATPMP.ExternalAddressResponse(decoding: Array(Vectors.natpmpMapTCPResponse.prefix(12)))
        }
    }

    @Test("An answer for another internal port or protocol does not answer the request")
    func otherRequest() throws {
        let response = try NATPMP.MapResponse(decoding: Vectors.natpmpMapTCPResponse)
        #expect(throws: PCPViolation("NAT-PMP answer for internal port 8080, not 8081")) {
            try response.check(answering: NATPMP.MapRequest(protocol: .tcp, internalPort: 8081, suggestedExternalPort: 0, lifetime: 60))
        }
        #expect(throws: PCPViolation("NAT-PMP answer for a TCP mapping, not the UDP one asked for")) {
            try response.check(answering: NATPMP.MapRequest(protocol: .udp, internalPort: 8080, suggestedExternalPort: 0, lifetime: 60))
        }
    }

    @Test("A success that grants no port or no lifetime, or keeps a deleted mapping, is refused")
    func grantsNothing() throws {
        let create = NATPMP.MapRequest(protocol: .tcp, internalPort: 8080, suggestedExternalPort: 8080, lifetime: 60)
        let noPort = NATPMP.MapResponse(protocol: .tcp, result: .success, secondsSinceStartOfEpoch: 1, mapping: .init(internalPort: 8080, externalPort: 0, lifetime: 60))
        #expect(throws: PCPViolation("NAT-PMP success for internal port 8080 assigns external port 0")) { try noPort.check(answering: create) }
        let noLifetime = NATPMP.MapResponse(protocol: .tcp, result: .success, secondsSinceStartOfEpoch: 1, mapping: .init(internalPort: 8080, externalPort: 8080, lifetime: 0))
        #expect(throws: PCPViolation("NAT-PMP success for internal port 8080 grants a lifetime of 0 s")) { try noLifetime.check(answering: create) }
        let kept = NATPMP.MapResponse(protocol: .tcp, result: .success, secondsSinceStartOfEpoch: 1, mapping: .init(internalPort: 8080, externalPort: 8080, lifetime: 60))
        #expect(throws: PCPViolation("NAT-PMP answer to a delete of internal port 8080 keeps it for 60 s")) {
            try kept.check(answering: .delete(protocol: .tcp, internalPort: 8080))
        }
        try noLifetime.check(answering: .delete(protocol: .tcp, internalPort: 8080))
    }
}
