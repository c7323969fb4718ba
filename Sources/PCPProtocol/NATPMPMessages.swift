import IGDProtocol

extension NATPMP {
    /// Asks for the gateway's external IPv4 address (RFC 6886 §3.2): two bytes, version and opcode 0.
    /// Also the probe that tells whether a gateway speaks NAT-PMP at all.
    public struct ExternalAddressRequest: Sendable, Hashable {
        /// The request; it has no fields.
        public init() {}

        /// The datagram: `00 00`.
        public func encoded() -> [UInt8] { [NATPMP.version, Opcode.externalAddress.rawValue] }
    }

    /// Creates, renews or deletes a UDP or TCP mapping (RFC 6886 §3.3, §3.4).
    public struct MapRequest: Sendable, Hashable {
        /// UDP or TCP.
        public var `protocol`: TransportProtocol
        /// The port on this host the mapping forwards to; never 0.
        public var internalPort: UInt16
        /// The external port asked for (0: any); the gateway may assign another.
        public var suggestedExternalPort: UInt16
        /// The lifetime asked for, in seconds; 0 deletes the mapping.
        public var lifetime: UInt32

        /// A request to map `internalPort` for `lifetime` seconds (0 deletes).
        ///
        /// `internalPort` must not be 0: with lifetime 0 that deletes every mapping of this
        /// host (RFC 6886 §3.4), which portkeeper never asks for; callers pass validated ports.
        public init(protocol: TransportProtocol, internalPort: UInt16, suggestedExternalPort: UInt16, lifetime: UInt32) {
            precondition(internalPort != 0, "a NAT-PMP mapping needs an internal port; 0 would address every mapping of this host")
            self.protocol = `protocol`
            self.internalPort = internalPort
            self.suggestedExternalPort = suggestedExternalPort
            self.lifetime = lifetime
        }

        /// Deletes the mapping of `internalPort`: lifetime 0 and suggested external port 0 (RFC 6886 §3.4).
        public static func delete(protocol: TransportProtocol, internalPort: UInt16) -> MapRequest {
            MapRequest(protocol: `protocol`, internalPort: internalPort, suggestedExternalPort: 0, lifetime: 0)
        }

        /// True when this request deletes (lifetime 0).
        public var isDelete: Bool { lifetime == 0 }

        /// The opcode: 1 for UDP, 2 for TCP.
        public var opcode: Opcode { Opcode(mapping: `protocol`) }

        /// The 12-byte datagram: version, opcode, two reserved zero bytes, internal port,
        /// suggested external port, lifetime, all big-endian.
        public func encoded() -> [UInt8] {
            var writer = DatagramWriter(capacity: 12)
            writer.u8(NATPMP.version)
            writer.u8(opcode.rawValue)
            writer.zeros(2)
            writer.u16(internalPort)
            writer.u16(suggestedExternalPort)
            writer.u32(lifetime)
            return writer.bytes
        }
    }

    /// The answer to an external-address request, also what a gateway announces to
    /// 224.0.0.1:5350 when it starts or its address changes (RFC 6886 §3.2, §3.2.1).
    public struct ExternalAddressResponse: Sendable, Hashable {
        /// The gateway's result.
        public var result: ResultCode
        /// Seconds since the gateway's mapping table was (re)initialised (RFC 6886 §3.6).
        public var secondsSinceStartOfEpoch: UInt32
        /// The external address; nil only in an 8-byte error answer, which carries none.
        public var externalAddress: IPv4Address?

        /// An answer with these fields. A success must carry an address.
        public init(result: ResultCode, secondsSinceStartOfEpoch: UInt32, externalAddress: IPv4Address?) {
            self.result = result
            self.secondsSinceStartOfEpoch = secondsSinceStartOfEpoch
            self.externalAddress = externalAddress
        }

        /// The expected length of the answer.
        public static let byteCount = 12

        /// Decodes an answer: exactly 12 bytes (8 for an error answer without an address),
        /// version 0, opcode 128.
        /// - Throws: ``PCPViolation`` for anything else.
        public init(decoding bytes: [UInt8]) throws(PCPViolation) {
            let reader = DatagramReader(bytes)
            let header = try NATPMP.header(reader, answering: [.externalAddress])
            result = header.result
            secondsSinceStartOfEpoch = header.epoch
            switch bytes.count {
            case NATPMP.errorHeaderBytes:
                guard result != .success else {
                    throw PCPViolation("NAT-PMP external-address answer of 8 bytes reports success but carries no address")
                }
                externalAddress = nil
            case Self.byteCount:
                externalAddress = reader.ipv4(8)
            default:
                throw NATPMP.wrongLength(bytes.count, what: "external-address answer", expected: Self.byteCount)
            }
        }

        /// The datagram a gateway sends for this answer (12 bytes, or 8 without an address).
        public func encoded() -> [UInt8] {
            var writer = DatagramWriter(capacity: Self.byteCount)
            NATPMP.writeHeader(&writer, opcode: .externalAddress, result: result, epoch: secondsSinceStartOfEpoch)
            if let externalAddress { writer.ipv4(externalAddress) }
            return writer.bytes
        }
    }

    /// The answer to a mapping request (RFC 6886 §3.3).
    public struct MapResponse: Sendable, Hashable {
        /// What the gateway says about one mapping.
        public struct Mapping: Sendable, Hashable {
            /// The internal port the answer is for: the request's, in an answer to it.
            public var internalPort: UInt16
            /// The external port the gateway assigned (0 when nothing was mapped).
            public var externalPort: UInt16
            /// The lifetime granted, in seconds (0 when nothing was mapped, or deleted).
            public var lifetime: UInt32

            /// A mapping with these fields.
            public init(internalPort: UInt16, externalPort: UInt16, lifetime: UInt32) {
                self.internalPort = internalPort
                self.externalPort = externalPort
                self.lifetime = lifetime
            }
        }

        /// UDP or TCP, from the opcode (129 or 130).
        public var `protocol`: TransportProtocol
        /// The gateway's result.
        public var result: ResultCode
        /// Seconds since the gateway's mapping table was (re)initialised (RFC 6886 §3.6).
        public var secondsSinceStartOfEpoch: UInt32
        /// The mapping fields; nil only in an 8-byte error answer, which names no port.
        public var mapping: Mapping?

        /// An answer with these fields. A success must carry the mapping.
        public init(protocol: TransportProtocol, result: ResultCode, secondsSinceStartOfEpoch: UInt32, mapping: Mapping?) {
            self.protocol = `protocol`
            self.result = result
            self.secondsSinceStartOfEpoch = secondsSinceStartOfEpoch
            self.mapping = mapping
        }

        /// The expected length of the answer.
        public static let byteCount = 16

        /// Decodes an answer to a UDP or TCP mapping request: exactly 16 bytes (8 for an error
        /// answer that names no port), version 0, opcode 129 or 130. Whether it answers a
        /// given request is ``check(answering:)``'s to say.
        /// - Throws: ``PCPViolation`` for anything else.
        public init(decoding bytes: [UInt8]) throws(PCPViolation) {
            let reader = DatagramReader(bytes)
            let header = try NATPMP.header(reader, answering: [.mapUDP, .mapTCP])
            `protocol` = header.opcode == .mapUDP ? .udp : .tcp
            result = header.result
            secondsSinceStartOfEpoch = header.epoch
            switch bytes.count {
            case NATPMP.errorHeaderBytes:
                guard result != .success else {
                    throw PCPViolation("NAT-PMP mapping answer of 8 bytes reports success but names no port")
                }
                mapping = nil
            case Self.byteCount:
                mapping = Mapping(internalPort: reader.u16(8), externalPort: reader.u16(10), lifetime: reader.u32(12))
            default:
                throw NATPMP.wrongLength(bytes.count, what: "mapping answer", expected: Self.byteCount)
            }
        }

        /// The datagram a gateway sends for this answer (16 bytes, or 8 without the mapping).
        public func encoded() -> [UInt8] {
            var writer = DatagramWriter(capacity: Self.byteCount)
            NATPMP.writeHeader(&writer, opcode: Opcode(mapping: `protocol`), result: result, epoch: secondsSinceStartOfEpoch)
            if let mapping {
                writer.u16(mapping.internalPort)
                writer.u16(mapping.externalPort)
                writer.u32(mapping.lifetime)
            }
            return writer.bytes
        }

        /// Checks that this answer is the answer to `request`, so that nothing is recorded
        /// that the gateway did not grant for it: the same protocol and internal port; a
        /// success that creates or renews grants an external port and a lifetime; a success
        /// that deletes leaves no lifetime. An 8-byte error answer names no port and refuses
        /// any request of its protocol.
        /// - Throws: ``PCPViolation`` when it answers something else or grants nothing.
        public func check(answering request: MapRequest) throws(PCPViolation) {
            guard `protocol` == request.protocol else {
                throw PCPViolation("NAT-PMP answer for a \(`protocol`) mapping, not the \(request.protocol) one asked for")
            }
            guard let mapping else { return }
            guard mapping.internalPort == request.internalPort else {
                throw PCPViolation("NAT-PMP answer for internal port \(mapping.internalPort), not \(request.internalPort)")
            }
            guard result == .success else { return }
            if request.isDelete {
                guard mapping.lifetime == 0 else {
                    throw PCPViolation("NAT-PMP answer to a delete of internal port \(request.internalPort) keeps it for \(mapping.lifetime) s")
                }
            } else {
                guard mapping.externalPort != 0 else {
                    throw PCPViolation("NAT-PMP success for internal port \(request.internalPort) assigns external port 0")
                }
                guard mapping.lifetime != 0 else {
                    throw PCPViolation("NAT-PMP success for internal port \(request.internalPort) grants a lifetime of 0 s")
                }
            }
        }
    }

    /// The version, response bit and opcode checks every answer shares, then its result and epoch.
    static func header(_ reader: DatagramReader, answering opcodes: [Opcode]) throws(PCPViolation) -> (opcode: Opcode, result: ResultCode, epoch: UInt32) {
        guard reader.count >= errorHeaderBytes else { throw tooShort(reader.count) }
        guard reader.u8(0) == version else {
            throw PCPViolation("NAT-PMP answer with version \(reader.u8(0)), not 0")
        }
        let op = reader.u8(1)
        guard op & responseBit != 0 else {
            throw PCPViolation("NAT-PMP datagram without the response bit (opcode \(op)): a request, not an answer")
        }
        guard let opcode = opcodes.first(where: { $0.rawValue == op & 0x7f }) else {
            let expected = opcodes.map { "\($0.rawValue) (\($0))" }.joined(separator: " or ")
            throw PCPViolation("NAT-PMP answer to opcode \(op & 0x7f), not \(expected)")
        }
        return (opcode, ResultCode(code: reader.u16(2)), reader.u32(4))
    }

    static func writeHeader(_ writer: inout DatagramWriter, opcode: Opcode, result: ResultCode, epoch: UInt32) {
        writer.u8(version)
        writer.u8(responseBit | opcode.rawValue)
        writer.u16(result.code)
        writer.u32(epoch)
    }

    static func tooShort(_ count: Int) -> PCPViolation {
        PCPViolation("NAT-PMP answer of \(count) bytes, shorter than the \(errorHeaderBytes)-byte header")
    }

    static func wrongLength(_ count: Int, what: String, expected: Int) -> PCPViolation {
        PCPViolation("NAT-PMP \(what) of \(count) bytes; it has \(expected) (\(errorHeaderBytes) for an error)")
    }
}
