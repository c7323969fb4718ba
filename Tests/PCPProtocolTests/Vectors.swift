import IGDProtocol
@testable import PCPProtocol

/// Datagrams written out byte by byte from the RFC layouts (RFC 6886 §3.2–3.5, RFC 6887 §7,
/// §11.1), with the lengths and echoes miniupnpd 2.3 sends. Fuzz/Corpus holds the same bytes.
enum Vectors {
    /// Bytes from hexadecimal pairs separated by spaces or `|` (a reading aid at field borders).
    static func hex(_ text: String) -> [UInt8] {
        text.split(whereSeparator: { $0 == " " || $0 == "|" || $0 == "\n" }).map { UInt8($0, radix: 16)! }
    }

    static let lan = IPv4Address(192, 168, 1, 10)
    static let external = IPv4Address(198, 51, 100, 7)
    static let nonce = PCP.Nonce(bytes: Array(1 ... 12))!
    static let otherNonce = PCP.Nonce(bytes: Array(101 ... 112))!

    // NAT-PMP

    /// Version 0, opcode 0.
    static let natpmpAddressRequest = hex("00 00")
    /// Map TCP 8080 → suggested 8080 for 7200 s.
    static let natpmpMapTCPRequest = hex("00 02 00 00 | 1f 90 1f 90 | 00 00 1c 20")
    /// Delete the UDP mapping of 51413: suggested port and lifetime 0.
    static let natpmpDeleteUDPRequest = hex("00 01 00 00 | c8 d5 00 00 | 00 00 00 00")
    /// Success, epoch 42, 198.51.100.7.
    static let natpmpAddressResponse = hex("00 80 00 00 | 00 00 00 2a | c6 33 64 07")
    /// Success, epoch 256, internal 8080 → external 8081 for 3600 s.
    static let natpmpMapTCPResponse = hex("00 82 00 00 | 00 00 01 00 | 1f 90 1f 91 | 00 00 0e 10")
    /// The 8-byte error answer miniupnpd sends when NAT-PMP mapping is off: Not Authorized, epoch 5.
    static let natpmpMapShortError = hex("00 81 00 02 | 00 00 00 05")

    // PCP

    /// ANNOUNCE from 192.168.1.10.
    static let pcpAnnounceRequest = hex("""
        02 00 00 00 | 00 00 00 00 | 00 00 00 00 00 00 00 00 00 00 ff ff c0 a8 01 0a
        """)
    /// MAP TCP 8080 for 7200 s from 192.168.1.10, nonce 01…0c, no suggestion (port 0, ::ffff:0.0.0.0).
    static let pcpMapRequest = hex("""
        02 01 00 00 | 00 00 1c 20 | 00 00 00 00 00 00 00 00 00 00 ff ff c0 a8 01 0a
        01 02 03 04 05 06 07 08 09 0a 0b 0c | 06 00 00 00 | 1f 90 00 00
        00 00 00 00 00 00 00 00 00 00 ff ff 00 00 00 00
        """)
    /// SUCCESS for 7200 s at epoch 42: 198.51.100.7:8080 for the request above.
    static let pcpMapResponse = hex("""
        02 81 00 00 | 00 00 1c 20 | 00 00 00 2a | 00 00 00 00 00 00 00 00 00 00 00 00
        01 02 03 04 05 06 07 08 09 0a 0b 0c | 06 00 00 00 | 1f 90 1f 90
        00 00 00 00 00 00 00 00 00 00 ff ff c6 33 64 07
        """)
    /// NO_RESOURCES, retry after 30 s, with the MAP fields copied from the request.
    static let pcpMapNoResources = hex("""
        02 81 00 08 | 00 00 00 1e | 00 00 00 2a | 00 00 00 00 00 00 00 00 00 00 00 00
        01 02 03 04 05 06 07 08 09 0a 0b 0c | 06 00 00 00 | 1f 90 00 00
        00 00 00 00 00 00 00 00 00 00 ff ff 00 00 00 00
        """)
    /// MALFORMED_REQUEST with the common header only: an error answer may stop there (miniupnpd
    /// answers a request shorter than the header so).
    static let pcpMapHeaderOnlyError = hex("""
        02 81 00 03 | 00 00 00 00 | 00 00 00 2a | 00 00 00 00 00 00 00 00 00 00 00 00
        """)
    /// The answer to ANNOUNCE: SUCCESS, lifetime 0, epoch 7.
    static let pcpAnnounceResponse = hex("""
        02 80 00 00 | 00 00 00 00 | 00 00 00 07 | 00 00 00 00 00 00 00 00 00 00 00 00
        """)
    /// The MAP success above with an optional option (code 128) of 5 bytes, padded to 8.
    static let pcpMapResponseWithOption = pcpMapResponse + hex("80 00 00 05 | aa bb cc dd ee 00 00 00")
    /// miniupnpd without PCP answering a PCP MAP: version 0, opcode 128 + 1, result 1, epoch 7.
    static let natpmpRefusesPCPMiniupnpd = hex("00 81 00 01 | 00 00 00 07")
    /// The same refusal as RFC 6886 §3.5 draws it: opcode 0.
    static let natpmpRefusesPCPRFC = hex("00 00 00 01 | 00 00 00 07")

    static func mapRequest(lifetime: UInt32 = 7200, nonce: PCP.Nonce = nonce) -> PCP.MapRequest {
        PCP.MapRequest(nonce: nonce, protocol: .tcp, internalPort: 8080, lifetime: lifetime, clientAddress: lan)
    }
}
