#if canImport(Glibc)
import Glibc
#endif
import Foundation
import IGDTestSupport
import PortKeeper
import PortKeeperMetrics
import Testing

@Suite("Metrics listen address")
struct LoopbackAddressTests {
    @Test("loopback addresses with a port are accepted", arguments: [
        ("127.0.0.1:9464", "127.0.0.1", 9464), ("127.3.4.5:0", "127.3.4.5", 0), ("[::1]:80", "::1", 80),
    ])
    func accepted(text: String, host: String, port: Int) throws {
        let address = try LoopbackAddress(parsing: text)
        #expect(address.host == host && address.port == port)
        #expect(address.description == text)
    }

    @Test("anything but a loopback address and a port is refused, in a line that says why", arguments: [
        ("0.0.0.0:9464", "not a loopback address"), ("192.168.1.2:9464", "not a loopback address"),
        ("[::]:9464", "not the IPv6 loopback"), ("localhost:9464", "not an IP address"), ("127.0.0.1", "has no port"),
        ("127.0.0.1:65536", "not a port"), ("127.0.0.1:+80", "not a port"), ("127.0.0.1:", "not a port"),
        ("::1:80", "not an IP address"), ("127.000.0.1:80", "not an IP address"),
    ])
    func refused(text: String, reason: String) {
        #expect {
            _ = try LoopbackAddress(parsing: text)
        } throws: { error in
            "\(error)".contains(reason) && !"\(error)".contains("\n")
        }
    }
}

@Suite("Metrics textfile")
struct MetricsTextfileTests {
    func scratchDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "portkeeper-metrics-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        return path
    }

    @Test("each write replaces the file whole through a hidden file beside it, readable by everyone whatever the umask")
    func replacesWhole() throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = MetricsTextfile(path: directory + "/portkeeper.prom")
        #expect(file.temporaryPath == directory + "/.portkeeper.prom.tmp")
        let old = umask(0o077)
        defer { umask(old) }
        try file.write(Array("a 1\nb 2\n".utf8))
        try file.write(Array("a 3\n".utf8))
        #expect(try String(contentsOfFile: file.path, encoding: .utf8) == "a 3\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["portkeeper.prom"])
        let mode = try #require(FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int)
        #expect(mode == 0o644)
    }

    @Test("a directory that does not exist is one line naming the path and the reason")
    func missingDirectory() throws {
        let file = MetricsTextfile(path: "/nonexistent-portkeeper-dir/portkeeper.prom")
        #expect(throws: MetricsTextfile.WriteError(path: "/nonexistent-portkeeper-dir/portkeeper.prom",
                                                   reason: "No such file or directory (writing /nonexistent-portkeeper-dir/.portkeeper.prom.tmp beside it)")) {
            try file.write(Array("a 1\n".utf8))
        }
    }

    @Test("a write that fails leaves the old file as it was")
    func keepsOldOnFailure() throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = MetricsTextfile(path: directory + "/portkeeper.prom")
        try file.write(Array("a 1\n".utf8))
        // The hidden file's place taken by a directory: the write cannot start.
        try FileManager.default.createDirectory(atPath: file.temporaryPath, withIntermediateDirectories: false)
        #expect(throws: MetricsTextfile.WriteError.self) { try file.write(Array("a 2\n".utf8)) }
        #expect(try String(contentsOfFile: file.path, encoding: .utf8) == "a 1\n")
    }
}

@Suite("Metrics endpoint")
struct MetricsEndpointTests {
    /// One HTTP/1.1 request over a plain socket to 127.0.0.1:`port`; the whole answer.
    func request(_ head: String, port: Int) throws -> String {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(socket >= 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #expect(connected == 0)
        let bytes = Array(head.utf8)
        #expect(send(socket, bytes, bytes.count, 0) == bytes.count)
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while answer.count < 1 << 20 {
            let count = recv(socket, &buffer, buffer.count, 0)
            if count <= 0 { break }
            answer += buffer[0..<count]
        }
        return String(decoding: answer, as: UTF8.self)
    }

    @Test("GET /metrics answers the text format on loopback; another path is a 404, another method a 405, each answer closes")
    func servesMetrics() async throws {
        let exposition = MetricsExposition(now: { 1_700_000_000 })
        exposition.metrics.record(.started(gateway: "Router", udn: "uuid:gw", declared: 2, interval: .seconds(60)))
        exposition.metrics.record(.checked(gateway: "Router", udn: "uuid:gw", declared: 2, missing: 0))
        let endpoint = try await MetricsEndpoint.start(on: try LoopbackAddress(parsing: "127.0.0.1:0")) { exposition.render() }
        let port = endpoint.address.port
        #expect(port != 0)

        let answer = try request("GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n", port: port)
        let parts = answer.components(separatedBy: "\r\n\r\n")
        #expect(parts.first?.hasPrefix("HTTP/1.1 200 OK") == true, "\(answer)")
        #expect(parts.first?.contains("text/plain; version=0.0.4") == true)
        let text = try PrometheusText(parts.dropFirst().joined(separator: "\r\n\r\n"))
        #expect(text.value(WatchMetrics.Name.present, ["gateway": "uuid:gw"]) == 2)
        #expect(text.value(WatchMetrics.Name.lastCheck, ["gateway": "uuid:gw"]) == 1_700_000_000)

        #expect(try request("GET /other HTTP/1.1\r\nHost: localhost\r\n\r\n", port: port).hasPrefix("HTTP/1.1 404"))
        let post = try request("POST /metrics HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\r\nabc", port: port)
        #expect(post.hasPrefix("HTTP/1.1 405"))
        #expect(post.contains("Allow: GET, HEAD"))
        await endpoint.stop()
    }
}
