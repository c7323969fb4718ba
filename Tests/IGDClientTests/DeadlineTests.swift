import Foundation
import IGDClient
import IGDProtocol
import IGDTestSupport
import Testing

extension AgainstFakes {
    /// Deadlines that hold whatever the gateway sends, and listings that end: a gateway that
    /// hangs, repeats one entry forever, lists entries that make no sense, or answers HTML.
    @Suite("Deadlines and hostile listings")
    struct DeadlineTests {
        func service(_ gateway: SimulatedGateway, _ client: GatewayClient) async throws -> ConnectionService {
            try await client.describe(try descriptionURL(gateway), probe: .whenChoosing).service
        }

        @Test("A command deadline cuts a hanging request short and names the deadline and the action")
        func commandDeadline() async throws {
            try await withGateway(.igdv2()) { gateway in
                var client = makeClient(deadline: .seconds(60))
                let service = try await service(gateway, client)
                gateway.injectReply(action: "GetExternalIPAddress", reply: .hang)
                client.deadline = Deadline("status", in: .seconds(1))
                let error = await #expect(throws: DeadlineExceeded.self) { try await client.perform(Actions.GetExternalIPAddress(), on: service) }
                #expect(error?.description == "status did not finish within 1 s (it ran out during GetExternalIPAddress)")
                // Once run out, nothing more is sent.
                let before = gateway.actionCount("GetStatusInfo")
                await #expect(throws: DeadlineExceeded.self) { try await client.perform(Actions.GetStatusInfo(), on: service) }
                #expect(gateway.actionCount("GetStatusInfo") == before)
            }
        }

        @Test("A deadline extended for more work keeps its name and says its new length")
        func extendedDeadline() {
            let start = ContinuousClock.now
            let deadline = Deadline("reconcile", in: .seconds(60), from: start).extended(by: .seconds(15))
            #expect(deadline.instant == start.advanced(by: .seconds(75)))
            #expect(deadline.exceeded(during: "AddPortMapping").description == "reconcile did not finish within 75 s (it ran out during AddPortMapping)")
            #expect(!deadline.hasPassed)
            #expect(Deadline("list", in: .zero, from: start).hasPassed)
        }

        @Test("A request's own deadline names the action and the time in its error")
        func requestDeadlineNamesTheAction() async throws {
            try await withGateway(.igdv2()) { gateway in
                var client = makeClient()
                let service = try await service(gateway, client)
                client.limits = HTTPLimits(connectTimeout: .seconds(3), readTimeout: .seconds(30), deadline: .seconds(3))
                gateway.injectReply(action: "GetExternalIPAddress", reply: .hang)
                let error = await #expect(throws: TransportError.self) { try await client.perform(Actions.GetExternalIPAddress(), on: service) }
                #expect(error?.kind == .timeout)
                #expect(error?.description.contains("did not answer GetExternalIPAddress within 3 s") == true, "\(error as Any)")
            }
        }

        @Test("A listing has a time budget of its own: a hanging walk ends with the listing's deadline")
        func listingBudget() async throws {
            try await withGateway(.noURLBase(initialMappings: [mapping(1001), mapping(1002)])) { gateway in
                var client = makeClient(deadline: .seconds(60))
                client.listingTime = .seconds(1)
                let service = try await service(gateway, client)
                gateway.injectReply(action: "GetGenericPortMappingEntry", reply: .hang)
                let error = await #expect(throws: DeadlineExceeded.self) { try await client.portMappings(on: service) }
                #expect(error?.description.hasPrefix("listing the gateway's mappings did not finish within 1 s") == true, "\(error as Any)")
                // The walk went no further than the entry that hangs (on a busy machine the
                // budget may even run out before that first request reaches the fake).
                #expect(gateway.actionCount("GetGenericPortMappingEntry") <= 1)
            }
        }

        @Test("A gateway answering every index with the same entry ends the walk at the first repeat")
        func repeatedEntry() async throws {
            try await withGateway(.noURLBase()) { gateway in
                let client = makeClient()
                let service = try await service(gateway, client)
                let same = FakeSOAP.response(action: "GetGenericPortMappingEntry", serviceType: service.type.rawValue, arguments: [
                    ("NewRemoteHost", ""), ("NewExternalPort", "1001"), ("NewProtocol", "TCP"), ("NewInternalPort", "1001"),
                    ("NewInternalClient", "192.168.1.20"), ("NewEnabled", "1"), ("NewPortMappingDescription", "again"), ("NewLeaseDuration", "0"),
                ])
                gateway.injectReply(action: "GetGenericPortMappingEntry", reply: same, times: 100)
                let error = await #expect(throws: ProtocolViolation.self) { try await client.portMappings(on: service) }
                #expect(error?.description.contains("answered GetGenericPortMappingEntry 1 with exactly its answer to 0") == true, "\(error as Any)")
                #expect(error?.description.contains("1001/TCP → 192.168.1.20:1001 'again'") == true, "\(error as Any)")
                #expect(gateway.actionCount("GetGenericPortMappingEntry") == 2)
            }
        }

        @Test("Entries that make no sense are set apart, named, and the walk goes on")
        func senselessEntriesSetApart() async throws {
            let mappings = [mapping(1001), mapping(1002, client: "x.y"), mapping(1003, client: "198.51.100.2&amp;"), mapping(1004)]
            try await withGateway(.noURLBase(initialMappings: mappings)) { gateway in
                let client = makeClient()
                let table = try await client.portMappings(on: try await service(gateway, client))
                #expect(table.entries.map(\.externalPort) == [1001, 1004])
                #expect(table.invalid.map(\.index) == [1, 2])
                #expect(table.invalid.map(\.problems) == [
                    ["internal client 'x.y' is not an IPv4 address"],
                    ["internal client '198.51.100.2&amp;' is not an IPv4 address"],
                ])
            }
        }

        @Test("A negative or missing lease, a missing client: set apart too")
        func injectedSenselessEntries() async throws {
            try await withGateway(.noURLBase(initialMappings: [mapping(1001)])) { gateway in
                let client = makeClient()
                let service = try await service(gateway, client)
                func reply(_ port: String, client: String?, lease: String) -> FakeHTTPReply {
                    var arguments = [("NewRemoteHost", ""), ("NewExternalPort", port), ("NewProtocol", "UDP"), ("NewInternalPort", port)]
                    if let client { arguments.append(("NewInternalClient", client)) }
                    arguments += [("NewEnabled", "1"), ("NewPortMappingDescription", "odd"), ("NewLeaseDuration", lease)]
                    return FakeSOAP.response(action: "GetGenericPortMappingEntry", serviceType: service.type.rawValue, arguments: arguments)
                }
                gateway.injectReply(action: "GetGenericPortMappingEntry", reply: reply("2001", client: "192.168.1.9", lease: "-60"))
                gateway.injectReply(action: "GetGenericPortMappingEntry", reply: reply("2002", client: nil, lease: "0"))
                gateway.injectReply(action: "GetGenericPortMappingEntry", reply: FakeSOAP.fault(code: 713))
                let table = try await client.portMappings(on: service)
                #expect(table.entries.isEmpty)
                #expect(table.invalid.map(\.problems) == [["NewLeaseDuration '-60' is not a number of seconds"], ["no NewInternalClient"]])
            }
        }

        @Test("A description URL answering an HTML page says so", arguments: [
            FakeHTTPReply.text(200, "<!DOCTYPE html><html><body><form>Password</form></body></html>", contentType: "text/html"),
            FakeHTTPReply.text(401, "<html><body>Login required</body></html>", contentType: "text/html; charset=utf-8"),
            FakeHTTPReply.text(200, "\n  <HTML><head><title>Router</title></head></HTML>", contentType: "text/xml"),
        ])
        func htmlLoginPage(reply: FakeHTTPReply) async throws {
            try await withGateway(.igdv2()) { gateway in
                gateway.override(path: gateway.profile.descriptionPath, reply: reply)
                let error = await #expect(throws: ProtocolViolation.self) { try await makeClient().describe(try descriptionURL(gateway)) }
                #expect(error?.description == "\(gateway.descriptionURL) returned an HTML page, not a UPnP device description (a login page?)")
            }
        }
    }
}
