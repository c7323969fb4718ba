import IGDProtocol

/// NAT-PMP (RFC 6886): the gateway's external address, and UDP/TCP mappings with a lifetime.
///
/// Requests are built by value types with an `encoded()` datagram; answers are decoded by the
/// response types' `init(decoding:)`, which take every datagram as hostile. A decoded answer
/// is checked against the request it is meant to answer with `check(answering:)` before anything
/// is recorded: NAT-PMP has no transaction identifier, so the opcode and the internal port are
/// what tie an answer to its request (RFC 6886 §3.5).
public enum NATPMP {
    /// The version byte of every NAT-PMP datagram (RFC 6886 §3).
    public static let version: UInt8 = 0
    /// The gateway's port for requests (RFC 6886 §3.1), shared with PCP.
    public static let serverPort: UInt16 = 5351
    /// The port gateways announce address changes and restarts to, on 224.0.0.1 (RFC 6886 §3.2.1).
    public static let announcePort: UInt16 = 5350
    /// Set in the opcode of every answer (RFC 6886 §3).
    public static let responseBit: UInt8 = 0x80
    /// The length of an error answer that carries only the header and the epoch: what
    /// miniupnpd sends for an unsupported version or opcode, and what RFC 6886 §3.5 shows.
    public static let errorHeaderBytes = 8

    /// What a request asks.
    public enum Opcode: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// The gateway's external IPv4 address (RFC 6886 §3.2).
        case externalAddress = 0
        /// A UDP mapping (RFC 6886 §3.3).
        case mapUDP = 1
        /// A TCP mapping (RFC 6886 §3.3).
        case mapTCP = 2

        /// The mapping opcode for `protocol`.
        public init(mapping protocol: TransportProtocol) {
            self = `protocol` == .udp ? .mapUDP : .mapTCP
        }

        /// The protocol a mapping opcode maps; nil for the address request.
        public var mappedProtocol: TransportProtocol? {
            switch self {
            case .externalAddress: nil
            case .mapUDP: .udp
            case .mapTCP: .tcp
            }
        }

        public var description: String {
            switch self {
            case .externalAddress: "external address"
            case .mapUDP: "map UDP"
            case .mapTCP: "map TCP"
            }
        }
    }

    /// A NAT-PMP result code (RFC 6886 §3.5); codes the RFC does not define are kept as sent
    /// and, as the RFC says, are fatal errors of the request.
    public enum ResultCode: Sendable, Hashable, CustomStringConvertible {
        /// 0: success.
        case success
        /// 1: the gateway does not speak this version.
        case unsupportedVersion
        /// 2: not authorized or refused (mapping switched off, or a static entry).
        case notAuthorized
        /// 3: the gateway has no working external connection.
        case networkFailure
        /// 4: out of resources (no more mappings now).
        case outOfResources
        /// 5: the gateway does not support this opcode.
        case unsupportedOpcode
        /// Any other code, as sent.
        case unknown(UInt16)

        /// The code as it is on the wire.
        public init(code: UInt16) {
            switch code {
            case 0: self = .success
            case 1: self = .unsupportedVersion
            case 2: self = .notAuthorized
            case 3: self = .networkFailure
            case 4: self = .outOfResources
            case 5: self = .unsupportedOpcode
            default: self = .unknown(code)
            }
        }

        /// The code as it is on the wire.
        public var code: UInt16 {
            switch self {
            case .success: 0
            case .unsupportedVersion: 1
            case .notAuthorized: 2
            case .networkFailure: 3
            case .outOfResources: 4
            case .unsupportedOpcode: 5
            case .unknown(let code): code
            }
        }

        /// The RFC's words for the code, or nil for a code it does not define.
        public var name: String? {
            switch self {
            case .success: "Success"
            case .unsupportedVersion: "Unsupported Version"
            case .notAuthorized: "Not Authorized/Refused"
            case .networkFailure: "Network Failure"
            case .outOfResources: "Out of resources"
            case .unsupportedOpcode: "Unsupported opcode"
            case .unknown: nil
            }
        }

        public var description: String {
            "NAT-PMP result \(code)" + (name.map { " (\($0))" } ?? "")
        }
    }
}
