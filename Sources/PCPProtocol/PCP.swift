import IGDProtocol

/// PCP, the Port Control Protocol (RFC 6887), version 2: the MAP and ANNOUNCE opcodes, IPv4.
///
/// Addresses travel in 128-bit fields; an IPv4 address is written IPv4-mapped, `::ffff:a.b.c.d`
/// (RFC 6887 §5). Requests are value types with an `encoded()` datagram; answers are decoded by
/// ``Answer/init(decoding:answering:)``, which takes every datagram as hostile, and a MAP answer
/// is tied to its request by ``Response/check(answering:)`` (nonce, protocol, internal port).
public enum PCP {
    /// The version this module speaks (RFC 6887 §7.1; NAT-PMP is 0, 1 was a draft).
    public static let version: UInt8 = 2
    /// The server's port, shared with NAT-PMP (RFC 6887 §19.1).
    public static let serverPort: UInt16 = 5351
    /// The client port unsolicited ANNOUNCE answers go to, on 224.0.0.1 (RFC 6887 §8.1, §14.1).
    public static let announcePort: UInt16 = 5350
    /// Set in the opcode byte of every answer (RFC 6887 §7.2).
    public static let responseBit: UInt8 = 0x80
    /// The longest PCP message (RFC 6887 §7).
    public static let maxMessageBytes = 1100
    /// The common header of requests and answers (RFC 6887 §7.1, §7.2).
    public static let headerBytes = 24
    /// The MAP opcode's fields (RFC 6887 §11.1).
    public static let mapBytes = 36

    /// The opcodes portkeeper sends.
    public enum Opcode: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// ANNOUNCE (RFC 6887 §14.1): no fields; asks whether the server is there, and is what a
        /// restarted server multicasts.
        case announce = 0
        /// MAP (RFC 6887 §11): create, renew or delete an inbound mapping.
        case map = 1

        public var description: String {
            switch self {
            case .announce: "ANNOUNCE"
            case .map: "MAP"
            }
        }
    }

    /// A PCP result code with its RFC name (RFC 6887 §7.4); codes the RFC does not define are
    /// kept as sent.
    public enum ResultCode: Sendable, Hashable, CustomStringConvertible {
        /// 0 SUCCESS.
        case success
        /// 1 UNSUPP_VERSION: the server does not speak this version.
        case unsupportedVersion
        /// 2 NOT_AUTHORIZED: refused by policy, or a nonce other than the mapping's.
        case notAuthorized
        /// 3 MALFORMED_REQUEST.
        case malformedRequest
        /// 4 UNSUPP_OPCODE.
        case unsupportedOpcode
        /// 5 UNSUPP_OPTION: a mandatory option the server does not know.
        case unsupportedOption
        /// 6 MALFORMED_OPTION.
        case malformedOption
        /// 7 NETWORK_FAILURE: the server has no working external connection (short lifetime).
        case networkFailure
        /// 8 NO_RESOURCES: no more mappings now (short lifetime).
        case noResources
        /// 9 UNSUPP_PROTOCOL: the server does not map this protocol.
        case unsupportedProtocol
        /// 10 USER_EX_QUOTA: this host holds as many mappings as it may (short lifetime).
        case userExceededQuota
        /// 11 CANNOT_PROVIDE_EXTERNAL: the suggested external address or port cannot be had (PREFER_FAILURE).
        case cannotProvideExternal
        /// 12 ADDRESS_MISMATCH: the client address field is not the request's source address.
        case addressMismatch
        /// 13 EXCESSIVE_REMOTE_PEERS: too many remote peers (FILTER option).
        case excessiveRemotePeers
        /// Any other code, as sent.
        case unknown(UInt8)

        static let known: [ResultCode] = [
            .success, .unsupportedVersion, .notAuthorized, .malformedRequest, .unsupportedOpcode,
            .unsupportedOption, .malformedOption, .networkFailure, .noResources, .unsupportedProtocol,
            .userExceededQuota, .cannotProvideExternal, .addressMismatch, .excessiveRemotePeers,
        ]

        /// The code as it is on the wire.
        public init(code: UInt8) {
            self = code < Self.known.count ? Self.known[Int(code)] : .unknown(code)
        }

        /// The code as it is on the wire.
        public var code: UInt8 {
            if case .unknown(let code) = self { return code }
            return UInt8(Self.known.firstIndex(of: self)!)
        }

        /// The RFC's name (`NOT_AUTHORIZED`…), or nil for a code it does not define.
        public var name: String? {
            switch self {
            case .success: "SUCCESS"
            case .unsupportedVersion: "UNSUPP_VERSION"
            case .notAuthorized: "NOT_AUTHORIZED"
            case .malformedRequest: "MALFORMED_REQUEST"
            case .unsupportedOpcode: "UNSUPP_OPCODE"
            case .unsupportedOption: "UNSUPP_OPTION"
            case .malformedOption: "MALFORMED_OPTION"
            case .networkFailure: "NETWORK_FAILURE"
            case .noResources: "NO_RESOURCES"
            case .unsupportedProtocol: "UNSUPP_PROTOCOL"
            case .userExceededQuota: "USER_EX_QUOTA"
            case .cannotProvideExternal: "CANNOT_PROVIDE_EXTERNAL"
            case .addressMismatch: "ADDRESS_MISMATCH"
            case .excessiveRemotePeers: "EXCESSIVE_REMOTE_PEERS"
            case .unknown: nil
            }
        }

        /// True for the errors RFC 6887 §7.4 calls short-lifetime (NETWORK_FAILURE,
        /// NO_RESOURCES, USER_EX_QUOTA): the same request may succeed later.
        public var isShortLifetimeError: Bool {
            self == .networkFailure || self == .noResources || self == .userExceededQuota
        }

        public var description: String {
            "PCP result \(code)" + (name.map { " \($0)" } ?? "")
        }
    }

    /// The 96-bit mapping nonce (RFC 6887 §11.1): the key of a mapping. The server refuses a
    /// renewal or a delete with another nonce (NOT_AUTHORIZED), so the nonce is kept for as
    /// long as the mapping, across processes. Written as 24 lower-case hexadecimal digits.
    public struct Nonce: Sendable, Hashable, CustomStringConvertible {
        /// The 12 bytes, as sent.
        public let bytes: [UInt8]

        /// The nonce of these 12 bytes; nil for any other count.
        public init?(bytes: [UInt8]) {
            guard bytes.count == 12 else { return nil }
            self.bytes = bytes
        }

        /// Reads 24 hexadecimal digits (either case); nil for anything else.
        public init?(hex: some StringProtocol) {
            let digits = Array(hex.utf8)
            guard digits.count == 24 else { return nil }
            var bytes: [UInt8] = []
            for index in stride(from: 0, to: 24, by: 2) {
                guard let high = Self.nibble(digits[index]), let low = Self.nibble(digits[index + 1]) else { return nil }
                bytes.append(high << 4 | low)
            }
            self.bytes = bytes
        }

        /// A fresh nonce from `generator` (give it a cryptographic one: the nonce is what
        /// keeps other hosts from deleting this host's mappings).
        public static func random(using generator: inout some RandomNumberGenerator) -> Nonce {
            Nonce(bytes: (0 ..< 12).map { _ in UInt8.random(in: 0 ... 255, using: &generator) })!
        }

        /// 24 lower-case hexadecimal digits.
        public var description: String {
            let hexDigits = Array("0123456789abcdef".utf8)
            var text: [UInt8] = []
            for byte in bytes {
                text.append(hexDigits[Int(byte >> 4)])
                text.append(hexDigits[Int(byte & 0xf)])
            }
            return String(decoding: text, as: UTF8.self)
        }

        private static func nibble(_ digit: UInt8) -> UInt8? {
            if (UInt8(ascii: "0") ... UInt8(ascii: "9")).contains(digit) { return digit - UInt8(ascii: "0") }
            let lower = digit | 0x20
            if (UInt8(ascii: "a") ... UInt8(ascii: "f")).contains(lower) { return lower - UInt8(ascii: "a") + 10 }
            return nil
        }
    }

    /// An option after the opcode's fields (RFC 6887 §7.3): its code and data, padding removed.
    public struct Option: Sendable, Hashable {
        /// The option code; 0–127 must be understood by the receiver, 128–255 may be skipped.
        public var code: UInt8
        /// The option's data (Option Length bytes).
        public var data: [UInt8]

        /// An option with this code and data.
        public init(code: UInt8, data: [UInt8]) {
            self.code = code
            self.data = data
        }
    }

    /// The 16 bytes of the IPv4-mapped IPv6 address of `address` (RFC 6887 §5), `::ffff:a.b.c.d`;
    /// the all-zeros IPv4 address is `::ffff:0.0.0.0`, as §5 requires.
    public static func mappedAddressBytes(_ address: IPv4Address) -> [UInt8] {
        var writer = DatagramWriter(capacity: 16)
        writer.append(ipv4MappedPrefix)
        writer.ipv4(address)
        return writer.bytes
    }

    /// The IPv4 address in a 16-byte address field, or nil when the field is not IPv4-mapped
    /// (all 96 prefix bits are checked, as RFC 6887 §5 requires).
    static func ipv4(inAddressField reader: DatagramReader, at offset: Int) -> IPv4Address? {
        guard reader.slice(offset, 12) == ipv4MappedPrefix else { return nil }
        return reader.ipv4(offset + 12)
    }

    static let ipv4MappedPrefix: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]
}

extension TransportProtocol {
    /// The IANA protocol number PCP carries (RFC 6887 §11.1): 6 for TCP, 17 for UDP.
    public var ianaProtocolNumber: UInt8 {
        switch self {
        case .tcp: 6
        case .udp: 17
        }
    }

    /// TCP for 6, UDP for 17, nil for any other protocol number.
    public init?(ianaProtocolNumber: UInt8) {
        switch ianaProtocolNumber {
        case 6: self = .tcp
        case 17: self = .udp
        default: return nil
        }
    }
}
