import Foundation
import IGDTestSupport
import Testing

/// `--gateway` means the same thing in every command (the library's side is GatewayReferenceTests).
@Suite("--gateway as a user gives it")
struct GatewayReferenceCLITests {
    @Test("Every command takes the description URL list takes: history, remove, export, plan and list name the same gateway")
    func descriptionURLEverywhere() async throws {
        try await withSeededRegistry("reference-url") { registry, gateway in
            let url = gateway.descriptionURL
            for arguments in [["history", "--gateway", url], ["export", "--gateway", url], ["plan", "--gateway", url],
                              ["list", "--gateway", url], ["remove", "9000/tcp", "--no-apply", "--gateway", url]] {
                let result = try await registry.portkeeper(arguments)
                #expect(result.status == 0, "\(arguments): \(result.stderr)")
            }
            let history = try await registry.history()
            #expect(history.first?.summary.contains("9000/tcp") == true, "\(history.first?.summary ?? "")")
            // A URL no known gateway is at, for a command that reads the registry only: said so.
            let unknown = try await registry.portkeeper(["history", "--gateway", "http://127.0.0.9:1/desc.xml"])
            expectOneLineRefusal(unknown, saying: "no known gateway was found at http://127.0.0.9:1/desc.xml; `portkeeper gateways` lists them", status: 64)
        }
    }
}
