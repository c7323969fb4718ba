import Foundation
import IGDClient
import IGDProtocol
import IGDTestSupport
import Testing

extension AgainstFakes {
    /// GatewayClient.describe against the simulated gateways: reading the description, probing
    /// the WAN connection services and choosing one.
    @Suite("Describe")
    struct DescribeTests {
        @Test("The seed router: the connected one of eight WANPPPConnection services is chosen", arguments: ["/UD/?6", "/UD/?9"])
        func seedRouterChoosesTheConnectedService(connectedPath: String) async throws {
            try await withGateway(try .seedRouter(connectedPath: connectedPath)) { gateway in
                let described = try await makeClient().describe(try descriptionURL(gateway))
                #expect(described.udn == "uuid:53563300-0101-0000-000ba233dcd7")
                #expect(described.friendlyName == "ADSL Modem-SV3")
                #expect(described.deviceType == "urn:schemas-upnp-org:device:InternetGatewayDevice:1")
                #expect(described.descriptionURL == (try descriptionURL(gateway)))
                #expect(described.services.count == 8)
                #expect(described.services.allSatisfy { $0.type == .pppConnection1 })
                #expect(described.services.map(\.controlURL.target) == (6...13).map { "/UD/?\($0)" })
                #expect(described.service.type == .pppConnection1)
                #expect(described.service.controlURL == (try GatewayURL(parsing: gateway.url(connectedPath))))
                #expect(described.choiceReason.contains("8 WAN connection services, 1 connected"))
                #expect(described.status?.connectionStatus == "Connected")
                #expect(described.externalAddress?.reported == "203.0.113.7")
                #expect(described.bootID == nil)
                // Every service was probed: GetStatusInfo and GetExternalIPAddress on each.
                #expect(gateway.actionCount("GetStatusInfo") == 8)
                #expect(gateway.actionCount("GetExternalIPAddress") == 8)
            }
        }

        @Test("A private external address is classified and flagged as double NAT")
        func privateExternalAddressIsDoubleNAT() async throws {
            try await withGateway(try .seedRouter(externalIP: "192.168.1.2")) { gateway in
                let described = try await makeClient().describe(try descriptionURL(gateway))
                let address = try #require(described.externalAddress)
                #expect(address.reported == "192.168.1.2")
                #expect(address.address == IPv4Address(192, 168, 1, 2))
                #expect(address.addressClass == .private)
                #expect(address.isDoubleNAT)
                #expect(described.choiceReason.contains("192.168.1.2"))
            }
        }

        @Test("With no service connected, one is still chosen and the reason says none is")
        func noServiceConnected() async throws {
            try await withGateway(try .seedRouter(connectedPath: nil)) { gateway in
                let described = try await makeClient().describe(try descriptionURL(gateway))
                #expect(described.choiceReason.contains("8 WAN connection services, 0 connected"))
                #expect(described.service.controlURL.target == "/UD/?6")
                #expect(described.status?.connectionStatus == "Disconnected")
            }
        }

        @Test("whenChoosing skips the probes when there is a single service")
        func probePolicyWhenChoosing() async throws {
            try await withGateway(.noURLBase()) { gateway in
                let described = try await makeClient().describe(try descriptionURL(gateway), probe: .whenChoosing)
                #expect(described.service.controlURL.target == "/desc/ctl/IPConn")
                #expect(described.status == nil)
                #expect(described.externalAddress == nil)
                #expect(gateway.actionCounts.isEmpty)
            }
        }

        @Test("No URLBase: the relative control URL resolves against the description's URL")
        func noURLBaseResolvesRelativeControlURL() async throws {
            try await withGateway(.noURLBase()) { gateway in
                let described = try await makeClient().describe(try descriptionURL(gateway))
                #expect(described.friendlyName == "Relative URL Gateway")
                #expect(described.services.count == 1)
                #expect(described.service.type == .ipConnection1)
                #expect(described.service.controlURL == (try GatewayURL(parsing: gateway.url("/desc/ctl/IPConn"))))
                #expect(described.choiceReason.contains("the only WAN connection service"))
                #expect(described.externalAddress?.addressClass == .reserved)
                // The probes went to the resolved control URL.
                let soapTargets = Set(gateway.requests.filter { $0.method == "POST" }.map(\.target))
                #expect(soapTargets == ["/desc/ctl/IPConn"])
            }
        }

        @Test("IGDv2: the WANIPConnection:2 service is found")
        func igdv2Describe() async throws {
            try await withGateway(.igdv2(externalIP: "198.51.100.200")) { gateway in
                let described = try await makeClient().describe(try descriptionURL(gateway))
                #expect(described.udn == "uuid:5e1f0a4c-7d3b-4c2a-9f10-00000000b001")
                #expect(described.service.type == .ipConnection2)
                #expect(described.service.controlURL.target == "/ctl/IPConn")
                #expect(described.service.deviceUDN == "uuid:5e1f0a4c-7d3b-4c2a-9f10-00000000b003")
            }
        }

        @Test("A public external address is not double NAT")
        func publicAddress() async throws {
            try await withGateway(.igdv2(externalIP: "8.8.4.4")) { gateway in
                let described = try await makeClient().describe(try descriptionURL(gateway))
                #expect(described.externalAddress?.addressClass == .public)
                #expect(described.externalAddress?.isDoubleNAT == false)
            }
        }

        @Test("A description answered with HTTP 404 is a DescriptionNotServed carrying the status, not a broken specification")
        func descriptionNotFound() async throws {
            try await withGateway(.noURLBase()) { gateway in
                let url = try GatewayURL(parsing: gateway.url("/nothing-here.xml"))
                let error = await #expect(throws: DescriptionNotServed.self) { try await makeClient().describe(url) }
                #expect(error == DescriptionNotServed(url: url.description, status: 404))
                #expect(error?.description == "\(url) answered HTTP 404 (not found)")
            }
        }

        @Test("A billion-laughs DOCTYPE description is refused quickly")
        func billionLaughs() async throws {
            let bomb = try Fixtures.string("synthetic/billion-laughs.xml")
            try await withGateway(.noURLBase()) { gateway in
                gateway.override(path: gateway.profile.descriptionPath, reply: .text(200, bomb))
                let client = makeClient()
                let (result, elapsed) = await timed { try await client.describe(try descriptionURL(gateway)) }
                #expect(result.failure is ProtocolViolation, "\(result)")
                #expect(elapsed < .seconds(10))
                #expect(gateway.actionCounts.isEmpty)
            }
        }

        @Test("A description without a WAN connection service is a ProtocolViolation")
        func noWANService() async throws {
            let xml = """
                <?xml version="1.0"?>
                <root xmlns="urn:schemas-upnp-org:device-1-0"><device>
                <deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType>
                <friendlyName>Empty</friendlyName><UDN>uuid:empty</UDN>
                </device></root>
                """
            try await withGateway(.noURLBase()) { gateway in
                gateway.override(path: gateway.profile.descriptionPath, reply: .text(200, xml))
                let error = await #expect(throws: ProtocolViolation.self) { try await makeClient().describe(try descriptionURL(gateway)) }
                #expect(error?.description.contains("no usable WANIPConnection or WANPPPConnection") == true)
            }
        }

        @Test("A control URL on another host is left out with a note")
        func controlURLOnAnotherHostIsRefused() async throws {
            try await withGateway(.noURLBase()) { gateway in
                let xml = gateway.profile.descriptionXML.replacingOccurrences(of: "<controlURL>ctl/IPConn</controlURL>", with: "<controlURL>http://10.9.9.9/ctl/IPConn</controlURL>")
                gateway.override(path: gateway.profile.descriptionPath, reply: .text(200, xml))
                await #expect(throws: ProtocolViolation.self) { try await makeClient().describe(try descriptionURL(gateway)) }
                #expect(gateway.actionCounts.isEmpty)
                #expect(!gateway.requests.contains { $0.method == "POST" })
            }
        }
    }
}
