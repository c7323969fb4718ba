import Foundation
import IGDClient
import IGDProtocol
import IGDTestSupport
import Testing

extension AgainstFakes {
    /// GatewayClient.perform against the simulated gateways: typed actions, faults, odd replies.
    @Suite("Actions against the fake gateway")
    struct ActionsAgainstFakeTests {
        /// Describes `gateway` and returns the chosen service.
        func chosenService(_ gateway: SimulatedGateway, client: GatewayClient = makeClient()) async throws -> ConnectionService {
            try await client.describe(try descriptionURL(gateway)).service
        }

        @Test("Seed router: add, list, delete, and deleting again is fault 714")
        func seedRouterAddListDelete() async throws {
            try await withGateway(try .seedRouter()) { gateway in
                let client = makeClient()
                let service = try await chosenService(gateway, client: client)
                #expect(service.controlURL.target == "/UD/?6")
                let web = PortMappingEntry(externalPort: 80, protocol: .tcp, internalPort: 80, internalClient: "", enabled: false, description: "Webサーバ (HTTP)")

                let added = entry(8080, client: "192.168.1.10", description: "portkeeper test")
                try await client.perform(Actions.AddPortMapping(added), on: service)
                #expect(gateway.mappings.contains { $0.externalPort == 8080 && $0.protocol == "TCP" && $0.internalClient == "192.168.1.10" })

                let listed = try await client.portMappings(on: service)
                #expect(listed.method == .genericEntryWalk)
                #expect(listed.entries == [web, added])

                try await client.perform(Actions.DeletePortMapping(externalPort: 8080, protocol: .tcp), on: service)
                #expect(try await client.portMappings(on: service).entries == [web])

                let error = await #expect(throws: UPnPError.self) {
                    try await client.perform(Actions.DeletePortMapping(externalPort: 8080, protocol: .tcp), on: service)
                }
                #expect(error?.code == 714)
                #expect(error?.name == "NoSuchEntryInArray")
            }
        }

        @Test("Seed router: GetSpecificPortMappingEntry reads the port-80 entry")
        func specificEntry() async throws {
            try await withGateway(try .seedRouter()) { gateway in
                let client = makeClient()
                let service = try await chosenService(gateway, client: client)
                let found = try await client.perform(Actions.GetSpecificPortMappingEntry(externalPort: 80, protocol: .tcp), on: service)
                #expect(found.description == "Webサーバ (HTTP)")
                #expect(found.enabled == false)
                #expect(found.internalPort == 80)
                let error = await #expect(throws: UPnPError.self) {
                    try await client.perform(Actions.GetSpecificPortMappingEntry(externalPort: 81, protocol: .udp), on: service)
                }
                #expect(error?.code == 714)
            }
        }

        @Test("The request is a POST to the control URL with the quoted SOAPAction and Connection: close")
        func requestShape() async throws {
            try await withGateway(try .seedRouter(connectedPath: "/UD/?9")) { gateway in
                let client = makeClient()
                let service = try await chosenService(gateway, client: client)
                let address = try await client.perform(Actions.GetExternalIPAddress(), on: service)
                #expect(address.reported == "203.0.113.7")
                let request = try #require(gateway.requests.last)
                #expect(request.method == "POST")
                #expect(request.target == "/UD/?9")
                #expect(request.header("SOAPAction") == "\"urn:schemas-upnp-org:service:WANPPPConnection:1#GetExternalIPAddress\"")
                #expect(request.header("Connection")?.lowercased() == "close")
                #expect(request.header("Host") == "127.0.0.1:\(gateway.port)")
                #expect(request.header("Content-Length") == String(request.body.count))
                #expect(request.header("Content-Type")?.hasPrefix("text/xml") == true)
            }
        }

        @Test("No URLBase: actions go to /desc/ctl/IPConn and work there")
        func noURLBaseActions() async throws {
            try await withGateway(.noURLBase(externalIP: "198.51.100.9")) { gateway in
                let client = makeClient()
                let service = try await chosenService(gateway, client: client)
                #expect(service.controlURL.target == "/desc/ctl/IPConn")
                #expect(try await client.perform(Actions.GetExternalIPAddress(), on: service).reported == "198.51.100.9")
                let type = try await client.perform(Actions.GetConnectionTypeInfo(), on: service)
                #expect(type.connectionType == "IP_Routed")
                try await client.perform(Actions.AddPortMapping(entry(5000, .udp)), on: service)
                #expect(gateway.mappings == [SimulatedGateway.Mapping(externalPort: 5000, protocol: "UDP", internalPort: 5000, internalClient: "192.168.1.10", description: "test")])
                let table = try await client.portMappings(on: service)
                #expect(table.entries == [entry(5000, .udp)])
                try await client.perform(Actions.DeletePortMapping(externalPort: 5000, protocol: .udp), on: service)
                #expect(gateway.mappings.isEmpty)
                #expect(Set(gateway.requests.filter { $0.method == "POST" }.map(\.target)) == ["/desc/ctl/IPConn"])
            }
        }

        @Test("IGDv2: AddAnyPortMapping returns the port the gateway reserved")
        func addAnyPortMapping() async throws {
            try await withGateway(.igdv2(initialMappings: [mapping(6000, client: "192.168.1.99")])) { gateway in
                let client = makeClient()
                let service = try await chosenService(gateway, client: client)
                let reserved = try await client.perform(Actions.AddAnyPortMapping(entry(6000)), on: service)
                #expect(reserved == 6001)
                #expect(gateway.mappings.map(\.externalPort).sorted() == [6000, 6001])
            }
        }

        @Test("A v2 action on a v1 service is refused without a request")
        func v2ActionOnV1Service() async throws {
            try await withGateway(.noURLBase()) { gateway in
                let client = makeClient()
                let service = try await chosenService(gateway, client: client)
                let before = gateway.requests.count
                let error = await #expect(throws: ActionUnavailable.self) {
                    try await client.perform(Actions.AddAnyPortMapping(entry(7000)), on: service)
                }
                #expect(error?.action == "AddAnyPortMapping")
                #expect(error?.service == .ipConnection1)
                #expect(gateway.requests.count == before)
            }
        }

        static let namedFaults: [(Int, String)] = [
            (401, "InvalidAction"), (402, "InvalidArgs"), (501, "ActionFailed"), (606, "ActionNotAuthorized"),
            (713, "SpecifiedArrayIndexInvalid"), (714, "NoSuchEntryInArray"), (715, "WildCardNotPermittedInSrcIP"),
            (716, "WildCardNotPermittedInExtPort"), (718, "ConflictInMappingEntry"), (724, "SamePortValuesRequired"),
            (725, "OnlyPermanentLeasesSupported"), (726, "RemoteHostOnlySupportsWildcard"),
            (727, "ExternalPortOnlySupportsWildcard"), (728, "NoPortMapsAvailable"),
            (729, "ConflictWithOtherMechanisms"), (732, "WildCardNotPermittedInIntPort"),
        ]

        @Test("A UPnP fault on AddPortMapping throws UPnPError with its code and spec name", arguments: namedFaults)
        func faultIsUPnPError(code: Int, name: String) async throws {
            try await withGateway(.noURLBase()) { gateway in
                let client = makeClient()
                let service = try await chosenService(gateway, client: client)
                gateway.injectFault(action: "AddPortMapping", code: code)
                let error = await #expect(throws: UPnPError.self) {
                    try await client.perform(Actions.AddPortMapping(entry(9000)), on: service)
                }
                #expect(error?.code == code)
                #expect(error?.name == name)
                #expect(error?.description.contains("\(code) \(name)") == true)
                #expect(gateway.mappings.isEmpty)
            }
        }

        @Test("An unknown fault code passes through with the device's words")
        func unknownFaultCode() async throws {
            try await withGateway(.noURLBase()) { gateway in
                let client = makeClient()
                let service = try await chosenService(gateway, client: client)
                gateway.injectReply(action: "AddPortMapping", reply: FakeSOAP.fault(code: 899, description: "Vendor Specific Trouble"))
                let error = await #expect(throws: UPnPError.self) {
                    try await client.perform(Actions.AddPortMapping(entry(9000)), on: service)
                }
                #expect(error?.code == 899)
                #expect(error?.name == nil)
                #expect(error?.deviceDescription == "Vendor Specific Trouble")
                #expect(error?.description.contains("899") == true)
            }
        }

        @Test("HTTP 200 carrying a fault body is a UPnPError")
        func faultWithStatus200() async throws {
            try await withGateway(.noURLBase()) { gateway in
                let client = makeClient()
                let service = try await chosenService(gateway, client: client)
                gateway.injectReply(action: "AddPortMapping", reply: .text(200, FakeSOAP.faultBody(code: 718)))
                let error = await #expect(throws: UPnPError.self) {
                    try await client.perform(Actions.AddPortMapping(entry(9000)), on: service)
                }
                #expect(error?.code == 718)
                #expect(error?.name == "ConflictInMappingEntry")
            }
        }

        @Test("HTTP 500 with no body is UnexpectedHTTPStatus")
        func http500WithoutBody() async throws {
            try await withGateway(.noURLBase()) { gateway in
                let client = makeClient()
                let service = try await chosenService(gateway, client: client)
                gateway.injectReply(action: "AddPortMapping", reply: .response(status: 500, body: []))
                let error = await #expect(throws: UnexpectedHTTPStatus.self) {
                    try await client.perform(Actions.AddPortMapping(entry(9000)), on: service)
                }
                #expect(error == UnexpectedHTTPStatus(status: 500, action: "AddPortMapping"))
            }
        }

        @Test("HTTP 200 without the action's response element is a ProtocolViolation")
        func wrongResponseElement() async throws {
            try await withGateway(.noURLBase()) { gateway in
                let client = makeClient()
                let service = try await chosenService(gateway, client: client)
                gateway.injectReply(action: "GetExternalIPAddress", reply: FakeSOAP.response(action: "GetStatusInfo", serviceType: service.type.rawValue))
                await #expect(throws: ProtocolViolation.self) {
                    try await client.perform(Actions.GetExternalIPAddress(), on: service)
                }
            }
        }

        @Test("A fault while probing one service does not stop describe")
        func probeFailureIsANote() async throws {
            try await withGateway(.noURLBase()) { gateway in
                gateway.injectFault(action: "GetExternalIPAddress", code: 501)
                let described = try await makeClient().describe(try descriptionURL(gateway))
                #expect(described.externalAddress == nil)
                #expect(described.status?.connectionStatus == "Connected")
                #expect(described.notes.contains { $0.contains("GetExternalIPAddress") && $0.contains("501") })
            }
        }
    }
}
