import Foundation
import IGDTestSupport
import Testing

/// A row that does not decode, met by the CLI: "the registry is damaged", exit 65, nothing sent
/// to the gateway (never a default read in its place: "this host" for a client that is not an
/// address, a gateway left out).
@Suite("Rows that do not decode, through the CLI")
struct UndecodableRowCLITests {
    @Test("A stored control URL portkeeper would not follow: every command that reads the gateway exits 65, sending nothing")
    func controlURLThatDoesNotDecode() async throws {
        try await withSeededRegistry("bad-control-url") { registry, gateway in
            try await SQLiteShell.execute(registry.path, "UPDATE gateway SET control_url = 'http://router.example/ctl'")
            let requestsBefore = gateway.requests.count
            for arguments in [["gateways"], ["mappings"], ["history", "--gateway", "uuid:"], ["reconcile"], ["list"]] {
                let result = try await registry.portkeeper(arguments)
                expectOneLineRefusal(result, saying: "the registry is damaged; \(registry.path): gateway 1's control_url does not decode", arguments, status: 65)
            }
            #expect(gateway.requests.count == requestsBefore)
        }
    }

    @Test("A declared client that is not an address is damage, not \"this host\"")
    func clientThatDoesNotDecode() async throws {
        try await withSeededRegistry("bad-client") { registry, gateway in
            try await SQLiteShell.execute(registry.path, "UPDATE declared_mapping SET internal_client = 'printer' WHERE external_port = 9001")
            let writes = { ["AddPortMapping", "DeletePortMapping"].map { gateway.actionCount($0) } }
            let writesBefore = writes()
            for arguments in [["mappings", "--json"], ["export"], ["reconcile"]] {
                let result = try await registry.portkeeper(arguments)
                expectOneLineRefusal(result, saying: "the registry is damaged; \(registry.path): a mapping declared on gateway 1's internal_client does not decode",
                                     arguments, status: 65)
                #expect(result.stdout.isEmpty, "\(arguments): \(result.stdout)")
            }
            // reconcile read the table before the declaration; it changed nothing there.
            #expect(writes() == writesBefore)
        }
    }
}
