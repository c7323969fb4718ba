import IGDProtocol

/// Reads big-endian fields from a datagram at fixed offsets. Every read is bounds-checked by
/// the caller's length checks first; `read` traps only on a programming error.
struct DatagramReader {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var count: Int { bytes.count }

    func u8(_ offset: Int) -> UInt8 { bytes[offset] }

    func u16(_ offset: Int) -> UInt16 {
        UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    func u32(_ offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }

    func ipv4(_ offset: Int) -> IPv4Address {
        IPv4Address(bytes[offset], bytes[offset + 1], bytes[offset + 2], bytes[offset + 3])
    }

    func slice(_ offset: Int, _ length: Int) -> [UInt8] { Array(bytes[offset ..< offset + length]) }
}

/// Appends big-endian fields to a datagram being built.
struct DatagramWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int) { bytes.reserveCapacity(capacity) }

    mutating func u8(_ value: UInt8) { bytes.append(value) }

    mutating func u16(_ value: UInt16) {
        bytes.append(UInt8(value >> 8))
        bytes.append(UInt8(value & 0xff))
    }

    mutating func u32(_ value: UInt32) {
        bytes.append(UInt8(value >> 24))
        bytes.append(UInt8(value >> 16 & 0xff))
        bytes.append(UInt8(value >> 8 & 0xff))
        bytes.append(UInt8(value & 0xff))
    }

    mutating func zeros(_ count: Int) { bytes.append(contentsOf: repeatElement(0, count: count)) }

    mutating func append(_ more: [UInt8]) { bytes.append(contentsOf: more) }

    mutating func ipv4(_ address: IPv4Address) {
        bytes.append(address.octets.0)
        bytes.append(address.octets.1)
        bytes.append(address.octets.2)
        bytes.append(address.octets.3)
    }
}
