#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import IGDProtocol

/// This machine's address as the gateway sees it.
public enum LocalAddress {
    /// The local IPv4 address the kernel would use to reach `host`: a UDP socket is connected
    /// (which sends nothing) and asked for its own address.
    /// - Throws: ``DiscoveryError`` when there is no route to `host`.
    public static func facing(_ host: IPv4Address) throws -> IPv4Address {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw DiscoveryError("cannot open a UDP socket to find this host's address") }
        defer { close(fd) }
        var remote = sockaddr_in()
        remote.sin_family = sa_family_t(AF_INET)
        remote.sin_port = UInt16(1900).bigEndian
        remote.sin_addr.s_addr = host.value.bigEndian
        let connected = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw DiscoveryError("no route from this host to the gateway at \(host)") }
        var local = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw DiscoveryError("cannot tell this host's address towards \(host)") }
        return IPv4Address(value: UInt32(bigEndian: local.sin_addr.s_addr))
    }
}
