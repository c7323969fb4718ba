import Foundation
import IGDClient
import IGDProtocol
import IGDTestSupport
import Testing

extension AgainstFakes {
    /// Issue 7 §4 end to end: the LiveBox and HG531 profiles answer only requests carrying their
    /// exact advertised service type, as the real routers do.
    @Suite("Router families against strict fakes")
    struct RouterFamilyAgainstFakeTests {
        static let profiles: [@Sendable () throws -> SimulatedGateway.Profile] = [
            { try .orangeLiveBox() },
            { try .huaweiHG531() },
        ]

        @Test("describe, add, list and delete work through the client, every request carrying the advertised type",
              arguments: [0, 1])
        func addListDelete(profileIndex: Int) async throws {
            let profile = try Self.profiles[profileIndex]()
            try await withGateway(profile) { gateway in
                let client = makeClient()
                let described = try await client.describe(try descriptionURL(gateway))
                #expect(described.udn == profile.udn)
                #expect(described.service.type.rawValue == profile.serviceType)
                #expect(described.externalAddress?.reported == "203.0.113.7")

                let entry = PortMappingEntry(remoteHost: "", externalPort: 8080, protocol: .tcp, internalPort: 80,
                                             internalClient: "192.168.1.20", enabled: true, description: "web", leaseDuration: 0)
                try await client.perform(Actions.AddPortMapping(entry), on: described.service)
                let table = try await client.portMappings(on: described.service)
                #expect(table.method == .genericEntryWalk)
                #expect(table.entries.map(\.externalPort) == [8080])
                #expect(table.entries.first?.internalClient == "192.168.1.20")
                try await client.perform(Actions.DeletePortMapping(externalPort: 8080, protocol: .tcp), on: described.service)
                #expect(gateway.mappings.isEmpty)

                let posts = gateway.requests.filter { $0.method == "POST" }
                #expect(!posts.isEmpty)
                for post in posts {
                    let header = try #require(post.header("SOAPAction"))
                    #expect(header.hasPrefix("\"\(profile.serviceType)#"), "\(header)")
                    #expect(FakeSOAPRequest.parse(post.body)?.actionNamespace == profile.serviceType)
                }
            }
        }

        @Test("The strict fake refuses a request naming another service type (401), so the tests above mean something")
        func strictFakeRefusesTheStandardType() async throws {
            try await withGateway(try .huaweiHG531()) { gateway in
                let standard = ConnectionService(type: .pppConnection1, serviceId: "", controlURL: try GatewayURL(parsing: gateway.url("/upnp/control/WANPPPConnection1")), deviceUDN: "")
                let error = await #expect(throws: UPnPError.self) { try await makeClient().perform(Actions.GetExternalIPAddress(), on: standard) }
                #expect(error?.code == 401)
            }
        }

        @Test("A description with no WAN connection service names the service types it offers")
        func noServiceNamesWhatIsOffered() async throws {
            try await withGateway(.noURLBase()) { gateway in
                let xml = """
                    <?xml version="1.0"?>
                    <root xmlns="urn:schemas-upnp-org:device-1-0"><device>
                    <deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType><UDN>uuid:only-l3f</UDN>
                    <serviceList>
                    <service><serviceType>urn:schemas-upnp-org:service:Layer3Forwarding:1</serviceType><controlURL>/l3f</controlURL></service>
                    <service><serviceType>urn:dslforum-org:service:WANDSLLinkConfig:1</serviceType><controlURL>/dsl</controlURL></service>
                    </serviceList></device></root>
                    """
                gateway.override(path: gateway.profile.descriptionPath, reply: .text(200, xml))
                let error = await #expect(throws: ProtocolViolation.self) { try await makeClient().describe(try descriptionURL(gateway)) }
                #expect(error?.description.contains("offers no usable WANIPConnection or WANPPPConnection service; the description offers: urn:schemas-upnp-org:service:Layer3Forwarding:1, urn:dslforum-org:service:WANDSLLinkConfig:1") == true,
                        "\(error?.description ?? "")")
                #expect(gateway.actionCounts.isEmpty)
            }
        }
    }
}
