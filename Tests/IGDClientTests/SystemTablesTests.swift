import Foundation
import IGDProtocol
import Testing

@testable import IGDClient

/// The routing and neighbour tables read as hostile text (issue 9 §1: where the PCP server is).
@Suite("The kernel's route and neighbour tables")
struct SystemTablesTests {
    static let header = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"

    @Test("the default route with the lowest metric is taken, its gateway read as the kernel prints it (network order, native hex)")
    func lowestMetric() {
        let table = Self.header + """
            wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0
            eth0\t00000000\t FE01A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0
            eth0\t00000000\t0A00000A\t0003\t0\t0\t100\t00000000\t0\t0\t0
            eth0\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0

            """
        #expect(SystemTables.defaultRoute(inRouteTable: table) == DefaultRoute(interface: "eth0", gateway: IPv4Address(192, 168, 1, 254), metric: 100), "the first of equal metrics")
        #expect(SystemTables.defaultRoute(inRouteTable: table, interface: "wlan0") == DefaultRoute(interface: "wlan0", gateway: IPv4Address(192, 168, 1, 1), metric: 600))
        #expect(SystemTables.defaultRoute(inRouteTable: table, interface: "eth1") == nil)
    }

    @Test("lines that are not a usable default route are left out, never guessed at", arguments: [
        "eth0\t00000000\t0101A8C0\t0001\t0\t0\t0\t00000000\t0\t0\t0",        // not RTF_GATEWAY
        "eth0\t00000000\t0101A8C0\t0002\t0\t0\t0\t00000000\t0\t0\t0",        // not RTF_UP
        "eth0\t00000000\t0101A8C0\t0003\t0\t0\t0\t000000FF\t0\t0\t0",        // a mask: not the default
        "eth0\t0000000A\t0101A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0",        // a destination
        "eth0\t00000000\t00000000\t0003\t0\t0\t0\t00000000\t0\t0\t0",        // gateway 0.0.0.0
        "eth0\t00000000\t0100007F\t0003\t0\t0\t0\t00000000\t0\t0\t0",        // loopback
        "eth0\t00000000\t010000E0\t0003\t0\t0\t0\t00000000\t0\t0\t0",        // multicast
        "eth0\t00000000\tFFFFFFFF\t0003\t0\t0\t0\t00000000\t0\t0\t0",        // broadcast
        "eth0\t00000000\t+101A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0",        // a sign is no hex digit
        "eth0\t00000000\t101A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0",         // seven digits
        "eth0\t00000000\t0101A8C0\t0003\t0\t0\t-1\t00000000\t0\t0\t0",       // a negative metric
        "eth0\t00000000\t0101A8C0\t0003\t0\t0\t99999999999\t00000000\t0\t0\t0", // a metric over 32 bits
        "eth0\t00000000\t0101A8C0\t0003\t0\t0",                              // too few fields
        "averyveryverylongname\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000", // over IFNAMSIZ
        "eth0\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\t" + String(repeating: "0", count: 600), // over-long line
        "\u{0}\u{FFFD}\t\t\t\t",
    ])
    func malformedRoutes(line: String) {
        #expect(SystemTables.defaultRoute(inRouteTable: Self.header + line + "\n") == nil)
        // The same line beside a good one does not hide it.
        let good = "eth1\t00000000\t0101A8C0\t0003\t0\t0\t50\t00000000\t0\t0\t0\n"
        #expect(SystemTables.defaultRoute(inRouteTable: Self.header + line + "\n" + good)?.gateway == IPv4Address(192, 168, 1, 1))
    }

    @Test("a table without a default route, an empty one and the header alone give none")
    func noDefaultRoute() {
        #expect(SystemTables.defaultRoute(inRouteTable: "") == nil)
        #expect(SystemTables.defaultRoute(inRouteTable: Self.header) == nil)
        #expect(SystemTables.defaultRoute(inRouteTable: Self.header + "eth0\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n") == nil)
    }

    static let arpHeader = "IP address       HW type     Flags       HW address            Mask     Device\n"

    @Test("the neighbour table gives a complete entry's hardware address in lower case, on the interface named")
    func hardwareAddress() {
        let table = Self.arpHeader + """
            192.168.1.1      0x1         0x2         AA:BB:CC:00:11:22     *        eth0
            192.168.1.1      0x1         0x2         aa:bb:cc:00:11:33     *        wlan0
            192.168.1.7      0x1         0x0         00:00:00:00:00:00     *        eth0

            """
        #expect(SystemTables.hardwareAddress(of: IPv4Address(192, 168, 1, 1), inNeighbourTable: table) == "aa:bb:cc:00:11:22")
        #expect(SystemTables.hardwareAddress(of: IPv4Address(192, 168, 1, 1), inNeighbourTable: table, interface: "wlan0") == "aa:bb:cc:00:11:33")
        #expect(SystemTables.hardwareAddress(of: IPv4Address(192, 168, 1, 7), inNeighbourTable: table) == nil)
        #expect(SystemTables.hardwareAddress(of: IPv4Address(192, 168, 1, 9), inNeighbourTable: table) == nil)
    }

    @Test("incomplete, zero and malformed neighbour entries are left out", arguments: [
        "192.168.1.1      0x1         0x0         aa:bb:cc:00:11:22     *        eth0",   // incomplete
        "192.168.1.1      0x1         0x2         00:00:00:00:00:00     *        eth0",   // no address
        "192.168.1.1      0x1         0x2         aa:bb:cc:00:11        *        eth0",   // five octets
        "192.168.1.1      0x1         0x2         aa:bb:cc:00:11:2      *        eth0",   // a one-digit octet
        "192.168.1.1      0x1         0x2         aa:bb:cc:00:11:zz     *        eth0",   // not hex
        "192.168.1.1      0x1         2           aa:bb:cc:00:11:22     *        eth0",   // flags without 0x
        "192.168.1.1      0x1         0x2         aa:bb:cc:00:11:22     *",              // too few fields
        "192.168.1.01     0x1         0x2         aa:bb:cc:00:11:22     *        eth0",   // not an address as written
    ])
    func malformedNeighbours(line: String) {
        #expect(SystemTables.hardwareAddress(of: IPv4Address(192, 168, 1, 1), inNeighbourTable: Self.arpHeader + line + "\n") == nil)
    }

    @Test("a table at the size cap loses its cut last line, not the lines before it")
    func cutLastLine() {
        let good = "eth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
        let filler = String(repeating: "x\n", count: (SystemTables.maxBytes - good.utf8.count) / 2)
        // The cut line would be a better default route if it were read whole.
        let cut = String("eth9\t00000000\t0201A8C0\t0003\t0\t0\t1\t00000000\t0\t0\t0".prefix(SystemTables.maxBytes - good.utf8.count - filler.utf8.count))
        let text = good + filler + cut
        #expect(text.utf8.count == SystemTables.maxBytes)
        #expect(SystemTables.defaultRoute(inRouteTable: text)?.gateway == IPv4Address(192, 168, 1, 1))
    }

    @Test("the reader stops at the size cap and gives nil for a file it cannot open")
    func reader() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("route-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(repeating: UInt8(ascii: "a"), count: SystemTables.maxBytes * 2).write(to: URL(fileURLWithPath: path))
        #expect(SystemTables.contents(of: path)?.utf8.count == SystemTables.maxBytes)
        #expect(SystemTables.contents(of: path + "-absent") == nil)
        #expect(SystemTables.defaultRoute(path: path + "-absent") == nil)
        #expect(SystemTables.hardwareAddress(of: IPv4Address(192, 168, 1, 1), path: path) == nil)
    }

    // MARK: Where the probe goes

    @Test("automatic probing goes to the default gateway, or to the --location host, on port 5351, only while SSDP searches the multicast group")
    func portControlServer() throws {
        let route = DefaultRoute(interface: "eth0", gateway: IPv4Address(192, 168, 1, 1), metric: 0)
        let url = try GatewayURL(parsing: "http://192.168.1.254:5000/rootDesc.xml")
        var options = DiscoveryOptions()
        options.interfaceName = "eth0"
        var asked: [String?] = []
        #expect(options.portControlServer(describing: nil) { asked.append($0); return route }.map { "\($0.address):\($0.port)" } == "192.168.1.1:5351")
        #expect(asked == ["eth0"])
        #expect(options.portControlServer(describing: url) { _ in route }.map { "\($0.address):\($0.port)" } == "192.168.1.254:5351")
        #expect(options.portControlServer(describing: nil) { _ in nil } == nil)

        options.targetHost = "127.0.0.1"
        #expect(options.portControlServer(describing: nil) { _ in route } == nil, "a search pointed elsewhere sends no probe")
        #expect(options.portControlServer(describing: url) { _ in route } == nil)

        options.portControl = .server(IPv4Address(127, 0, 0, 1), port: 40000)
        #expect(options.portControlServer(describing: url) { _ in route }.map { "\($0.address):\($0.port)" } == "127.0.0.1:40000")
        options.portControl = .off
        options.targetHost = UPnP.ssdpMulticastAddress
        #expect(options.portControlServer(describing: nil) { _ in route } == nil)
    }
}
