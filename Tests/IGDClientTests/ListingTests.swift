import Foundation
import IGDClient
import IGDProtocol
import IGDTestSupport
import Testing

extension AgainstFakes {
    /// Reading whole mapping tables: the GetGenericPortMappingEntry walk and IGDv2's
    /// GetListOfPortMappings, with their endings and fallbacks.
    @Suite("Listing")
    struct ListingTests {
        static let v2ServiceType = "urn:schemas-upnp-org:service:WANIPConnection:2"

        /// The chosen service of `gateway`.
        func service(_ gateway: SimulatedGateway, _ client: GatewayClient) async throws -> ConnectionService {
            try await client.describe(try descriptionURL(gateway), probe: .whenChoosing).service
        }

        // MARK: The walk

        @Test("Seed router: the walk returns the port-80 entry and stops at the empty HTTP 500")
        func seedRouterWalk() async throws {
            try await withGateway(try .seedRouter()) { gateway in
                let client = makeClient()
                let table = try await client.portMappings(on: try await service(gateway, client))
                #expect(table.method == .genericEntryWalk)
                #expect(table.entries == [
                    PortMappingEntry(externalPort: 80, protocol: .tcp, internalPort: 80, internalClient: "", enabled: false, description: "Webサーバ (HTTP)", leaseDuration: 0),
                ])
                #expect(table.note?.contains("HTTP 500") == true)
                #expect(gateway.actionCount("GetGenericPortMappingEntry") == 2)
                #expect(gateway.actionCount("GetListOfPortMappings") == 0)
            }
        }

        static let endings: [(SimulatedGateway.ListEnd, String)] = [
            (.fault713, "713"), (.fault714, "714"), (.fault402, "402"), (.http500Empty, "HTTP 500"), (.http500Garbage, "HTTP 500"),
        ]

        @Test("Each way a gateway ends its list ends the walk cleanly", arguments: endings)
        func walkEndings(end: SimulatedGateway.ListEnd, noted: String) async throws {
            var profile = SimulatedGateway.Profile.noURLBase(initialMappings: [mapping(1001), mapping(1002, "UDP"), mapping(1003, description: "<&>")])
            profile.listEnd = end
            try await withGateway(profile) { gateway in
                let client = makeClient()
                let table = try await client.genericEntryWalk(on: try await service(gateway, client))
                #expect(table.method == .genericEntryWalk)
                #expect(table.entries.map(\.externalPort) == [1001, 1002, 1003])
                #expect(table.entries.map(\.protocol) == [.tcp, .udp, .tcp])
                #expect(table.entries[2].description == "<&>")
                #expect(table.note?.contains(noted) == true, "\(table.note ?? "no note")")
                #expect(gateway.actionCount("GetGenericPortMappingEntry") == 4)
            }
        }

        @Test("An empty table ends the walk at index 0", arguments: endings.map(\.0))
        func emptyWalk(end: SimulatedGateway.ListEnd) async throws {
            var profile = SimulatedGateway.Profile.noURLBase()
            profile.listEnd = end
            try await withGateway(profile) { gateway in
                let client = makeClient()
                let table = try await client.portMappings(on: try await service(gateway, client))
                #expect(table.entries.isEmpty)
                #expect(gateway.actionCount("GetGenericPortMappingEntry") == 1)
            }
        }

        @Test("Another fault mid-walk propagates", arguments: [501, 606, 725])
        func faultMidWalk(code: Int) async throws {
            try await withGateway(.noURLBase(initialMappings: [mapping(1001), mapping(1002), mapping(1003)])) { gateway in
                let client = makeClient()
                let service = try await service(gateway, client)
                // Index 0 answers normally (injected, since injections queue per action), index 1 faults.
                let first = FakeSOAP.response(action: "GetGenericPortMappingEntry", serviceType: service.type.rawValue, arguments: [
                    ("NewRemoteHost", ""), ("NewExternalPort", "1001"), ("NewProtocol", "TCP"), ("NewInternalPort", "1001"),
                    ("NewInternalClient", "192.168.1.20"), ("NewEnabled", "1"), ("NewPortMappingDescription", ""), ("NewLeaseDuration", "0"),
                ])
                gateway.injectReply(action: "GetGenericPortMappingEntry", reply: first)
                gateway.injectFault(action: "GetGenericPortMappingEntry", code: code)
                let error = await #expect(throws: UPnPError.self) { try await client.portMappings(on: service) }
                #expect(error?.code == code)
                #expect(gateway.actionCount("GetGenericPortMappingEntry") == 2)
            }
        }

        @Test("A walk longer than maxEntries is a ProtocolViolation, not an endless loop")
        func walkCapped() async throws {
            try await withGateway(.noURLBase(initialMappings: (1...5).map { mapping(UInt16(2000 + $0)) })) { gateway in
                var client = makeClient()
                client.maxEntries = 3
                let service = try await service(gateway, client)
                await #expect(throws: ProtocolViolation.self) { try await client.genericEntryWalk(on: service) }
                #expect(gateway.actionCount("GetGenericPortMappingEntry") == 3)
            }
        }

        // MARK: IGDv2 GetListOfPortMappings

        @Test("IGDv2: one GetListOfPortMappings per protocol and no walk")
        func listOfPortMappings() async throws {
            let initial = [mapping(3000, "TCP", description: "a & b"), mapping(3001, "UDP"), mapping(2999, "TCP")]
            try await withGateway(.igdv2(initialMappings: initial)) { gateway in
                let client = makeClient()
                let table = try await client.portMappings(on: try await service(gateway, client))
                #expect(table.method == .listOfPortMappings)
                #expect(table.note == nil)
                #expect(table.entries.map(\.externalPort) == [2999, 3000, 3001])
                #expect(table.entries.map(\.protocol) == [.tcp, .tcp, .udp])
                #expect(table.entries[1].description == "a & b")
                #expect(table.entries[1].internalClient == "192.168.1.20")
                #expect(gateway.actionCount("GetListOfPortMappings") == 2)
                #expect(gateway.actionCount("GetGenericPortMappingEntry") == 0)
                let protocols = gateway.requests.compactMap { FakeSOAPRequest.parse($0.body) }
                    .filter { $0.action == "GetListOfPortMappings" }.compactMap { $0.argument("NewProtocol") }
                #expect(protocols == ["TCP", "UDP"])
            }
        }

        @Test("IGDv2: an empty table (730) is an empty list")
        func emptyListOfPortMappings() async throws {
            try await withGateway(.igdv2()) { gateway in
                let client = makeClient()
                let table = try await client.portMappings(on: try await service(gateway, client))
                #expect(table.method == .listOfPortMappings)
                #expect(table.entries.isEmpty)
                #expect(gateway.actionCount("GetListOfPortMappings") == 2)
                #expect(gateway.actionCount("GetGenericPortMappingEntry") == 0)
            }
        }

        @Test("IGDv2: a fault on GetListOfPortMappings falls back to the walk and says so", arguments: [401, 501])
        func fallbackOnFault(code: Int) async throws {
            try await withGateway(.igdv2(initialMappings: [mapping(4000), mapping(4001, "UDP")])) { gateway in
                let client = makeClient()
                gateway.injectFault(action: "GetListOfPortMappings", code: code, times: 2)
                let table = try await client.portMappings(on: try await service(gateway, client))
                #expect(table.method == .genericEntryWalk)
                #expect(table.entries.map(\.externalPort) == [4000, 4001])
                let note = try #require(table.note)
                #expect(note.contains("GetListOfPortMappings failed"))
                #expect(note.contains("\(code)"))
                #expect(note.contains("713"), "the walk's own ending is kept: \(note)")
                #expect(gateway.actionCount("GetGenericPortMappingEntry") == 3)
            }
        }

        @Test("IGDv2: a malformed listing falls back to the walk and says so", arguments: [
            "this is not XML <<<",
            "<Other><PortMappingEntry/></Other>",
        ])
        func fallbackOnMalformedListing(listing: String) async throws {
            try await withGateway(.igdv2(initialMappings: [mapping(4000)])) { gateway in
                let client = makeClient()
                gateway.injectReply(
                    action: "GetListOfPortMappings",
                    reply: FakeSOAP.response(action: "GetListOfPortMappings", serviceType: Self.v2ServiceType, arguments: [("NewPortListing", listing)])
                )
                let table = try await client.portMappings(on: try await service(gateway, client))
                #expect(table.method == .genericEntryWalk)
                #expect(table.entries.map(\.externalPort) == [4000])
                #expect(table.note?.contains("GetListOfPortMappings answered badly") == true, "\(table.note ?? "no note")")
            }
        }

        @Test("IGDv2: an entry of the listing that makes no sense is set apart, without falling back to the walk")
        func senselessEntryInListing() async throws {
            try await withGateway(.igdv2(initialMappings: [mapping(4000), mapping(4001, client: "x.y"), mapping(4002, "UDP", client: "198.51.100.2&amp;")])) { gateway in
                let client = makeClient()
                let table = try await client.portMappings(on: try await service(gateway, client))
                #expect(table.method == .listOfPortMappings)
                #expect(table.entries.map(\.externalPort) == [4000])
                #expect(table.invalid.map(\.problems) == [["internal client 'x.y' is not an IPv4 address"], ["internal client '198.51.100.2&amp;' is not an IPv4 address"]])
                #expect(table.invalid.first?.summary == "4001/TCP → x.y:4001 ''")
                #expect(gateway.actionCount("GetGenericPortMappingEntry") == 0)
            }
        }

        @Test("IGDv2: a transport failure of GetListOfPortMappings is not hidden by the fallback")
        func transportFailureIsThrown() async throws {
            try await withGateway(.igdv2(initialMappings: [mapping(4000)])) { gateway in
                let client = makeClient()
                let service = try await service(gateway, client)
                gateway.injectReply(action: "GetListOfPortMappings", reply: .close)
                let error = await #expect(throws: TransportError.self) { try await client.portMappings(on: service) }
                #expect(error?.kind == .closedEarly)
            }
        }

        static let pagingCases: [(tcp: Int, udp: Int, requests: Int)] = [
            (1000, 0, 3),  // a full page asks once more, then 730
            (1500, 10, 3),
            (2345, 1, 4),
        ]

        @Test("IGDv2: more than 1000 entries are read in pages without duplicates", arguments: pagingCases)
        func paging(tcp: Int, udp: Int, requests: Int) async throws {
            var profile = SimulatedGateway.Profile.igdv2(
                initialMappings: (0..<tcp).map { mapping(UInt16(10000 + $0), "TCP") } + (0..<udp).map { mapping(UInt16(20000 + $0), "UDP") }
            )
            profile.maxEntries = 5000
            try await withGateway(profile) { gateway in
                // 60 s: the fake writes thousands of entries, and a loaded machine has been seen
                // to take over 15 s over them.
                let client = makeClient(deadline: .seconds(60))
                // listOfPortMappings itself, not portMappings: a failure here must not hide
                // behind the (slow, thousands of requests) fallback walk.
                let entries = try await client.listOfPortMappings(on: try await service(gateway, client))
                #expect(entries.count == tcp + udp)
                #expect(Set(entries).count == entries.count)
                #expect(entries.filter { $0.protocol == .tcp }.map(\.externalPort) == (0..<tcp).map { UInt16(10000 + $0) })
                #expect(entries.filter { $0.protocol == .udp }.map(\.externalPort) == (0..<udp).map { UInt16(20000 + $0) })
                #expect(gateway.actionCount("GetListOfPortMappings") == requests)
                #expect(gateway.actionCount("GetGenericPortMappingEntry") == 0)
            }
        }

        @Test("IGDv2: a listing over maxEntries is refused")
        func listingCapped() async throws {
            try await withGateway(.igdv2(initialMappings: (0..<20).map { mapping(UInt16(30000 + $0)) })) { gateway in
                var client = makeClient()
                client.maxEntries = 10
                let service = try await service(gateway, client)
                await #expect(throws: ProtocolViolation.self) { try await client.listOfPortMappings(on: service) }
            }
        }
    }
}
