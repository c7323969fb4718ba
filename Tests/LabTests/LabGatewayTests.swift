import Foundation
import IGDTestSupport
import Testing

/// portkeeper against the real miniupnpd, in network namespaces, in both IGD profiles.
/// Serialized: each test builds its own lab, one at a time.
@Suite("Lab: real miniupnpd", .serialized, labEnabled)
struct LabGatewayTests {
    static let profiles: [LabProfile] = [.v2, .v1]

    @Test("discover finds the gateway", arguments: profiles)
    func discoverFindsGateway(profile: LabProfile) async throws {
        try await withLab(profile) { lab in
            let found = try decode([DiscoveredGateway].self, "gateways", try await lab.portkeeper(["discover", "--json"]))
            try #require(found.count == 1)
            #expect(found[0].descriptionURL == Lab.descriptionURL)
            #expect(found[0].udn.hasPrefix("uuid:"))
            #expect(found[0].serviceType == (profile == .v2 ? "urn:schemas-upnp-org:service:WANIPConnection:2" : "urn:schemas-upnp-org:service:WANIPConnection:1"))
            #expect(found[0].controlURL == "http://\(Lab.lanGateway):\(Lab.httpPort)/ctl/IPConn")
            #expect(found[0].externalIP == Lab.wanGateway)
            #expect(found[0].doubleNAT == false)

            let text = try await lab.portkeeper(["discover"])
            #expect(text.status == 0)
            #expect(text.stdout.contains(found[0].udn))
        }
    }

    @Test("status shows the WAN address", arguments: profiles)
    func statusShowsWANAddress(profile: LabProfile) async throws {
        try await withLab(profile) { lab in
            struct Status: Decodable { var externalIP: String?; var connectionStatus: String?; var doubleNAT: Bool?; var uptime: UInt32? }
            let status = try decode(Status.self, try await lab.portkeeper(["status", "--json"]))
            #expect(status.externalIP == Lab.wanGateway)
            #expect(status.connectionStatus == "Connected")
            #expect(status.doubleNAT == false)
            #expect(status.uptime != nil)
        }
    }

    @Test("list agrees with upnpc -l", arguments: profiles)
    func listAgreesWithUpnpc(profile: LabProfile) async throws {
        try await withLab(profile) { lab in
            for (port, proto, description) in [(7001, "TCP", "one"), (7002, "UDP", "two"), (7003, "TCP", "three")] {
                try await lab.run(on: .lan, ["upnpc", "-u", Lab.descriptionURL, "-e", description, "-a", Lab.lanClient, "\(port)", "\(port + 100)", proto]).check()
            }
            let theirs = try await lab.upnpcList()
            #expect(theirs.count == 3)
            let ours = try decode([ListedMapping].self, "mappings", try await lab.portkeeper(["list", "--json"]))
            #expect(ours.count == theirs.count)
            for entry in theirs {
                let match = ours.first { $0.externalPort == entry.externalPort && $0.protocol == entry.proto }
                #expect(match?.internalClient == entry.internalClient)
                #expect(match?.internalPort == entry.internalPort)
                #expect(match?.description == entry.description)
                #expect(match?.enabled == true)
                // Leases count down between the two reads.
                #expect(match.map { Int($0.leaseDuration) - Int(entry.lease) }.map { abs($0) <= 5 } == true)
            }
            let text = try await lab.portkeeper(["list"])
            #expect(text.stdout.contains("3 mappings"))
            #expect(text.stdout.contains(profile == .v2 ? "GetListOfPortMappings" : "GetGenericPortMappingEntry"))
        }
    }

    @Test("a mapping added through the library carries a TCP connection from outside, and deleting it closes it", arguments: profiles)
    func mappingCarriesTraffic(profile: LabProfile) async throws {
        try await withLab(profile) { lab in
            let server = try lab.startBackground(on: .lan, ["socat", "TCP-LISTEN:9090,reuseaddr,fork", "SYSTEM:echo hello-from-lan"])
            defer { _ = server.terminate() }
            #expect(try await lab.connectFromOutside(port: 9090) == nil, "nothing is mapped yet, the connection must fail")

            try await lab.probe(["add", Lab.descriptionURL, "9090", "tcp", Lab.lanClient, "9090", "0", "portkeeper lab"]).check()
            let listed = try await lab.upnpcList()
            #expect(listed.contains { $0.externalPort == 9090 && $0.proto == "TCP" && $0.internalClient == Lab.lanClient && $0.description == "portkeeper lab" })

            var reply: String?
            for _ in 0..<100 where reply == nil {  // up to ~10 s: the rule may take a moment on a busy machine
                reply = try await lab.connectFromOutside(port: 9090)
                if reply == nil { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(reply?.contains("hello-from-lan") == true)

            try await lab.probe(["delete", Lab.descriptionURL, "9090", "tcp"]).check()
            #expect(try await lab.upnpcList().contains { $0.externalPort == 9090 } == false)
            #expect(try await lab.connectFromOutside(port: 9090) == nil)

            // Asking for it now is a typed fault, 714, not an empty success.
            let gone = try await lab.probe(["get", Lab.descriptionURL, "9090", "tcp"])
            #expect(gone.status != 0)
            #expect(gone.stderr.contains("UPnP error 714 NoSuchEntryInArray"), "\(gone.stderr)")
        }
    }

    @Test("descriptions round-trip exactly", arguments: profiles)
    func descriptionsRoundTrip(profile: LabProfile) async throws {
        try await withLab(profile) { lab in
            let descriptions: [(UInt16, String, String)] = [
                (8001, "Webサーバ (HTTP)", "Webサーバ (HTTP)"),
                // upnpc prints the XML text as it arrived, entities not decoded.
                (8002, "a<b & \"c\"", "a&lt;b &amp; &quot;c&quot;"),
                (8003, "A&B <x>", "A&amp;B &lt;x&gt;"),
            ]
            for (port, description, _) in descriptions {
                try await lab.probe(["add", Lab.descriptionURL, "\(port)", "udp", Lab.lanClient, "\(port)", "0", description]).check()
            }
            let listed = try decode([ListedMapping].self, "mappings", try await lab.portkeeper(["list", "--json"]))
            let theirs = try await lab.upnpcList()
            for (port, description, asUpnpcShows) in descriptions {
                #expect(listed.first { $0.externalPort == port }?.description == description)
                #expect(theirs.first { $0.externalPort == port }?.description == asUpnpcShows)
                struct Entry: Decodable { var description: String }
                let specific = try decode(Entry.self, try await lab.probe(["get", Lab.descriptionURL, "\(port)", "udp"]))
                #expect(specific.description == description)
            }
            struct Entry: Decodable { var externalPort: UInt16; var description: String }
            let walked = try decode([Entry].self, try await lab.probe(["walk", Lab.descriptionURL]))
            #expect(Set(walked.map(\.description)) == Set(descriptions.map(\.1)))
        }
    }
}

@Suite("Lab: IGDv2 actions and failures", .serialized, labEnabled)
struct LabV2AndFailureTests {
    @Test("AddAnyPortMapping gets another port when the asked one is taken; DeletePortMappingRange clears a range")
    func version2Actions() async throws {
        try await withLab(.v2) { lab in
            try await lab.run(on: .lan, ["upnpc", "-u", Lab.descriptionURL, "-a", Lab.lanClient, "7100", "7100", "TCP"]).check()
            // 7100 is held by the same client: miniupnpd grants another external port for another internal port.
            let granted = try await lab.probe(["add-any", Lab.descriptionURL, "7100", "tcp", "192.168.77.3", "7200", "0", "any port"])
            #expect(granted.status == 0, "\(granted.stderr)")
            let port = UInt16(granted.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            #expect(port != nil && port != 7100)
            let listed = try await lab.upnpcList()
            #expect(listed.contains { $0.externalPort == port && $0.internalClient == "192.168.77.3" && $0.internalPort == 7200 })

            for p in 7300...7304 {
                try await lab.run(on: .lan, ["upnpc", "-u", Lab.descriptionURL, "-a", Lab.lanClient, "\(p)", "\(p)", "UDP"]).check()
            }
            try await lab.probe(["delete-range", Lab.descriptionURL, "7300", "7304", "udp"]).check()
            #expect(try await lab.upnpcList().filter { (7300...7304).contains($0.externalPort) }.isEmpty)
        }
    }

    @Test("v2 actions on the IGDv1 profile are refused before anything is sent")
    func version2ActionsOnV1() async throws {
        try await withLab(.v1) { lab in
            let result = try await lab.probe(["add-any", Lab.descriptionURL, "7100", "tcp", Lab.lanClient, "7100", "0", "x"])
            #expect(result.status != 0)
            #expect(result.stderr.contains("AddAnyPortMapping is not offered by urn:schemas-upnp-org:service:WANIPConnection:1"))
        }
    }

    @Test("no gateway: one clear line and a non-zero exit")
    func noGatewayFound() async throws {
        try await withLab(.v2) { lab in
            // The outside host's network has no UPnP gateway.
            let result = try await lab.run(on: .outside, [try Products.path("portkeeper"), "discover", "--db", lab.registryPath])
            #expect(result.status == 1)
            #expect(result.stdout.isEmpty)
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(result.stderr)")
            #expect(lines.first?.hasPrefix("portkeeper: error: no UPnP gateway answered on any interface within 2 s") == true)
            #expect(result.stderr.contains("UPnP is enabled on the router"))

            let wrongInterface = try await lab.run(on: .lan, [try Products.path("portkeeper"), "status", "--interface", "nosuch0", "--db", lab.registryPath])
            #expect(wrongInterface.status == 1)
            #expect(wrongInterface.stderr.contains("interface nosuch0 does not exist"))

            // The gateway is down: refused, with a hint to rediscover.
            try await lab.stopGateway()
            let down = try await lab.run(on: .lan, [try Products.path("portkeeper"), "list", "--gateway", Lab.descriptionURL, "--db", lab.registryPath])
            #expect(down.status == 1)
            #expect(down.stderr.contains("connection refused"))
            #expect(down.stderr.split(separator: "\n").count == 1)
        }
    }

    @Test("a lab is removed even when its test fails")
    func labCleansUp() async throws {
        struct Deliberate: Error {}
        var namespace = ""
        await #expect(throws: Deliberate.self) {
            try await withLab(.v2) { lab in
                namespace = lab.namespace(.gateway)
                throw Deliberate()
            }
        }
        #expect(!namespace.isEmpty)
        let list = try await ProcessRunner.run("ip", ["netns", "list"], timeout: .seconds(10))
        #expect(!list.stdout.contains(namespace))
    }
}
