import IGDProtocol

extension PCP {
    /// ANNOUNCE (RFC 6887 §14.1): a header and nothing else. Sent to learn whether the gateway
    /// speaks PCP and to read its epoch; lifetime 0.
    public struct AnnounceRequest: Sendable, Hashable {
        /// The address the request leaves from (the server answers ADDRESS_MISMATCH otherwise).
        public var clientAddress: IPv4Address

        /// An ANNOUNCE from `clientAddress`.
        public init(clientAddress: IPv4Address) {
            self.clientAddress = clientAddress
        }

        /// The 24-byte datagram.
        public func encoded() -> [UInt8] {
            var writer = DatagramWriter(capacity: PCP.headerBytes)
            PCP.writeRequestHeader(&writer, opcode: .announce, lifetime: 0, clientAddress: clientAddress)
            return writer.bytes
        }
    }

    /// MAP (RFC 6887 §11.1): creates, renews or (lifetime 0) deletes an inbound IPv4 mapping.
    public struct MapRequest: Sendable, Hashable {
        /// The mapping's nonce: the same for its creation, every renewal and its delete.
        public var nonce: Nonce
        /// TCP (6) or UDP (17).
        public var `protocol`: TransportProtocol
        /// The port on this host the mapping forwards to; never 0.
        public var internalPort: UInt16
        /// The external port asked for (0: any); the server may assign another.
        public var suggestedExternalPort: UInt16
        /// The external address asked for; 0.0.0.0 (the default) leaves it to the server.
        public var suggestedExternalAddress: IPv4Address
        /// The lifetime asked for, in seconds; 0 deletes the mapping.
        public var lifetime: UInt32
        /// The address the request leaves from (the server answers ADDRESS_MISMATCH otherwise).
        public var clientAddress: IPv4Address

        /// The all-zeros IPv4 address: no preference for the external address.
        public static let anyAddress = IPv4Address(0, 0, 0, 0)

        /// A MAP request. `internalPort` must not be 0 (with a protocol, the server calls that
        /// MALFORMED_REQUEST); callers pass validated ports.
        public init(
            nonce: Nonce, protocol: TransportProtocol, internalPort: UInt16, suggestedExternalPort: UInt16 = 0,
            suggestedExternalAddress: IPv4Address = anyAddress, lifetime: UInt32, clientAddress: IPv4Address
        ) {
            precondition(internalPort != 0, "a PCP MAP for TCP or UDP needs an internal port")
            self.nonce = nonce
            self.protocol = `protocol`
            self.internalPort = internalPort
            self.suggestedExternalPort = suggestedExternalPort
            self.suggestedExternalAddress = suggestedExternalAddress
            self.lifetime = lifetime
            self.clientAddress = clientAddress
        }

        /// True when this request deletes (lifetime 0).
        public var isDelete: Bool { lifetime == 0 }

        /// The 60-byte datagram: the common header (version 2, opcode 1, lifetime, client address
        /// IPv4-mapped), then nonce, protocol number, three reserved zero bytes, internal port,
        /// suggested external port and suggested external address (IPv4-mapped, so the default
        /// is `::ffff:0.0.0.0`, RFC 6887 §5 and §11.1). No options.
        public func encoded() -> [UInt8] {
            var writer = DatagramWriter(capacity: PCP.headerBytes + PCP.mapBytes)
            PCP.writeRequestHeader(&writer, opcode: .map, lifetime: lifetime, clientAddress: clientAddress)
            writer.append(nonce.bytes)
            writer.u8(`protocol`.ianaProtocolNumber)
            writer.zeros(3)
            writer.u16(internalPort)
            writer.u16(suggestedExternalPort)
            writer.append(PCP.mappedAddressBytes(suggestedExternalAddress))
            return writer.bytes
        }
    }

    /// Version, R = 0 and the opcode, two reserved zero bytes, the lifetime, the client address.
    static func writeRequestHeader(_ writer: inout DatagramWriter, opcode: Opcode, lifetime: UInt32, clientAddress: IPv4Address) {
        writer.u8(version)
        writer.u8(opcode.rawValue)
        writer.zeros(2)
        writer.u32(lifetime)
        writer.append(mappedAddressBytes(clientAddress))
    }
}
