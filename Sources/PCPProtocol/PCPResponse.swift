import IGDProtocol

extension PCP {
    /// What a datagram sent in answer to a PCP request turned out to be.
    public enum Answer: Sendable, Hashable {
        /// A PCP answer.
        case pcp(Response)
        /// A NAT-PMP server's answer to a version it does not speak: version 0, result 1
        /// (RFC 6887 §9, RFC 6886 §3.5). The client falls back to NAT-PMP.
        case natPMPUnsupportedVersion(secondsSinceStartOfEpoch: UInt32)

        /// Decodes a datagram received in answer to a request with `opcode`.
        ///
        /// Checked, in order: at most 1100 bytes; a version-0 datagram of 8, 12 or 16 bytes with
        /// result 1 is a NAT-PMP server refusing PCP (the opcode byte is not checked: RFC 6886
        /// writes 0 there, miniupnpd 128 plus the request's); otherwise at least the 24-byte
        /// header, a multiple of 4 bytes, version 2, the R bit, `opcode`; for MAP the 36-byte
        /// fields (an error answer may stop after the header); then options, each within the
        /// datagram. Reserved fields are not checked: RFC 6887 §7.2 says to ignore them.
        /// - Throws: ``PCPViolation`` for anything else.
        public init(decoding bytes: [UInt8], answering opcode: Opcode) throws(PCPViolation) {
            guard bytes.count <= maxMessageBytes else {
                throw PCPViolation("PCP answer of \(bytes.count) bytes, over the \(maxMessageBytes)-byte limit")
            }
            let reader = DatagramReader(bytes)
            if bytes.count >= 1, reader.u8(0) == NATPMP.version {
                guard [8, 12, 16].contains(bytes.count) else {
                    throw PCPViolation("version-0 (NAT-PMP) answer of \(bytes.count) bytes; it has 8, 12 or 16")
                }
                let result = NATPMP.ResultCode(code: reader.u16(2))
                guard result == .unsupportedVersion else {
                    throw PCPViolation("version-0 (NAT-PMP) answer to a PCP request with \(result), not 1 (Unsupported Version)")
                }
                self = .natPMPUnsupportedVersion(secondsSinceStartOfEpoch: reader.u32(4))
                return
            }
            self = .pcp(try Response(reader, answering: opcode))
        }

        /// The datagram a server sends for this answer (the NAT-PMP refusal as RFC 6886 §3.5 shows it: 8 bytes, opcode 0).
        public func encoded() -> [UInt8] {
            switch self {
            case .pcp(let response):
                return response.encoded()
            case .natPMPUnsupportedVersion(let epoch):
                var writer = DatagramWriter(capacity: NATPMP.errorHeaderBytes)
                writer.u8(NATPMP.version)
                writer.u8(0)
                writer.u16(NATPMP.ResultCode.unsupportedVersion.code)
                writer.u32(epoch)
                return writer.bytes
            }
        }
    }

    /// A PCP answer: the common header's fields, the MAP fields, the options (RFC 6887 §7.2, §11.1).
    public struct Response: Sendable, Hashable {
        /// The opcode it answers.
        public var opcode: Opcode
        /// The server's result.
        public var result: ResultCode
        /// The lifetime granted (success), or how long the error holds (error), in seconds.
        public var lifetime: UInt32
        /// The server's Epoch Time: seconds since its mapping state began (RFC 6887 §8.5).
        public var epochTime: UInt32
        /// The MAP fields of a MAP answer; nil for ANNOUNCE, and for a MAP error answer that
        /// stops after the header.
        public var map: MapFields?
        /// The options after the opcode's fields, in order.
        public var options: [Option]

        /// An answer with these fields.
        public init(opcode: Opcode, result: ResultCode, lifetime: UInt32, epochTime: UInt32, map: MapFields? = nil, options: [Option] = []) {
            self.opcode = opcode
            self.result = result
            self.lifetime = lifetime
            self.epochTime = epochTime
            self.map = map
            self.options = options
        }

        init(_ reader: DatagramReader, answering expected: Opcode) throws(PCPViolation) {
            let count = reader.count
            guard count >= headerBytes else {
                throw PCPViolation("PCP answer of \(count) bytes, shorter than the \(headerBytes)-byte header")
            }
            guard count % 4 == 0 else {
                throw PCPViolation("PCP answer of \(count) bytes, not a multiple of 4")
            }
            guard reader.u8(0) == version else {
                if reader.u8(3) == ResultCode.unsupportedVersion.code {
                    throw PCPViolation("PCP server answers UNSUPP_VERSION with version \(reader.u8(0)): it does not speak version \(version)")
                }
                throw PCPViolation("PCP answer with version \(reader.u8(0)), not \(version)")
            }
            let op = reader.u8(1)
            guard op & responseBit != 0 else {
                throw PCPViolation("PCP datagram without the R bit (opcode \(op)): a request, not an answer")
            }
            guard op & 0x7f == expected.rawValue else {
                throw PCPViolation("PCP answer to opcode \(op & 0x7f), not \(expected.rawValue) (\(expected))")
            }
            opcode = expected
            result = ResultCode(code: reader.u8(3))
            lifetime = reader.u32(4)
            epochTime = reader.u32(8)
            var offset = headerBytes
            switch expected {
            case .announce:
                map = nil
            case .map:
                if count - offset >= mapBytes {
                    map = try MapFields(reader, at: offset, success: result == .success)
                    offset += mapBytes
                } else if count == headerBytes, result != .success {
                    map = nil
                } else {
                    throw PCPViolation("PCP MAP answer of \(count) bytes: the \(mapBytes)-byte MAP fields are cut short")
                }
            }
            options = try Self.options(reader, from: offset)
        }

        /// Options until the end, each a 4-byte header (code, reserved, length) and its data
        /// padded to a multiple of 4 (RFC 6887 §7.3). At most (1100 − 24) / 4 of them.
        static func options(_ reader: DatagramReader, from start: Int) throws(PCPViolation) -> [Option] {
            var options: [Option] = []
            var offset = start
            // The length is a multiple of 4 and so is every step, so a header always fits.
            while offset < reader.count {
                let code = reader.u8(offset)
                let length = Int(reader.u16(offset + 2))
                let padded = (length + 3) & ~3
                guard padded <= reader.count - offset - 4 else {
                    throw PCPViolation("PCP option \(code) of \(length) bytes at byte \(offset) runs past the end of the \(reader.count)-byte answer")
                }
                options.append(Option(code: code, data: reader.slice(offset + 4, length)))
                offset += 4 + padded
            }
            return options
        }

        /// The datagram a server sends for this answer: reserved fields and padding zero.
        public func encoded() -> [UInt8] {
            var writer = DatagramWriter(capacity: headerBytes + mapBytes)
            writer.u8(version)
            writer.u8(responseBit | opcode.rawValue)
            writer.u8(0)
            writer.u8(result.code)
            writer.u32(lifetime)
            writer.u32(epochTime)
            writer.zeros(12)
            if let map { map.write(&writer) }
            for option in options {
                writer.u8(option.code)
                writer.u8(0)
                writer.u16(UInt16(option.data.count))
                writer.append(option.data)
                writer.zeros((4 - option.data.count % 4) % 4)
            }
            return writer.bytes
        }

        /// Checks that this answer is the answer to `request`, so that nothing is recorded that
        /// the server did not grant for it: a MAP answer with the request's nonce, protocol and
        /// internal port; a success that creates or renews grants an external port and a
        /// lifetime; a success that deletes grants no lifetime. A MAP error answer that stops
        /// after the header names no mapping and refuses any request.
        /// - Throws: ``PCPViolation`` when it answers something else or grants nothing.
        public func check(answering request: MapRequest) throws(PCPViolation) {
            guard opcode == .map else { throw PCPViolation("PCP \(opcode) answer, not an answer to MAP") }
            guard let map else { return }
            guard map.nonce == request.nonce else {
                throw PCPViolation("PCP MAP answer with nonce \(map.nonce), not this mapping's \(request.nonce)")
            }
            guard map.protocol == request.protocol else {
                throw PCPViolation("PCP MAP answer for a \(map.protocol) mapping, not the \(request.protocol) one asked for")
            }
            guard map.internalPort == request.internalPort else {
                throw PCPViolation("PCP MAP answer for internal port \(map.internalPort), not \(request.internalPort)")
            }
            guard result == .success else { return }
            if request.isDelete {
                guard lifetime == 0 else {
                    throw PCPViolation("PCP answer to a delete of internal port \(request.internalPort) keeps it for \(lifetime) s")
                }
            } else {
                guard map.assignedExternalPort != 0 else {
                    throw PCPViolation("PCP MAP success for internal port \(request.internalPort) assigns external port 0")
                }
                guard lifetime != 0 else {
                    throw PCPViolation("PCP MAP success for internal port \(request.internalPort) grants a lifetime of 0 s")
                }
            }
        }
    }

    /// The MAP opcode's fields in an answer (RFC 6887 §11.1).
    public struct MapFields: Sendable, Hashable {
        /// The nonce, which must be the request's.
        public var nonce: Nonce
        /// TCP or UDP.
        public var `protocol`: TransportProtocol
        /// The internal port, which must be the request's.
        public var internalPort: UInt16
        /// The external port the server assigned (in an error answer, the request's suggestion or 0).
        public var assignedExternalPort: UInt16
        /// The external address the server assigned; nil only in an error answer whose field is
        /// all zeros (`::`), as servers may set fields they would have assigned.
        public var assignedExternalAddress: IPv4Address?

        /// MAP fields with these values.
        public init(nonce: Nonce, protocol: TransportProtocol, internalPort: UInt16, assignedExternalPort: UInt16, assignedExternalAddress: IPv4Address?) {
            self.nonce = nonce
            self.protocol = `protocol`
            self.internalPort = internalPort
            self.assignedExternalPort = assignedExternalPort
            self.assignedExternalAddress = assignedExternalAddress
        }

        init(_ reader: DatagramReader, at offset: Int, success: Bool) throws(PCPViolation) {
            nonce = Nonce(bytes: reader.slice(offset, 12))!
            let number = reader.u8(offset + 12)
            guard let proto = TransportProtocol(ianaProtocolNumber: number) else {
                throw PCPViolation("PCP MAP answer for protocol \(number), not TCP (6) or UDP (17)")
            }
            `protocol` = proto
            internalPort = reader.u16(offset + 16)
            assignedExternalPort = reader.u16(offset + 18)
            if let address = PCP.ipv4(inAddressField: reader, at: offset + 20) {
                assignedExternalAddress = address
            } else if !success, reader.slice(offset + 20, 16).allSatisfy({ $0 == 0 }) {
                assignedExternalAddress = nil
            } else {
                throw PCPViolation("PCP MAP answer assigns an external address that is not IPv4-mapped")
            }
        }

        func write(_ writer: inout DatagramWriter) {
            writer.append(nonce.bytes)
            writer.u8(`protocol`.ianaProtocolNumber)
            writer.zeros(3)
            writer.u16(internalPort)
            writer.u16(assignedExternalPort)
            if let assignedExternalAddress {
                writer.append(PCP.mappedAddressBytes(assignedExternalAddress))
            } else {
                writer.zeros(16)
            }
        }
    }
}
