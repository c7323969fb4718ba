import Foundation
import IGDTestSupport
import Testing

/// The README's library example (Examples/keep-port), built by the package, against miniupnpd.
@Suite("Lab: the library example", .serialized, labEnabled)
struct LabLibraryTests {
    @Test("keep-port, given the lab's description URL, declares 8080/tcp and the gateway forwards it; the CLI sees both")
    func keepPortForwards() async throws {
        try await withLab(.v2) { lab in
            let run = try await lab.run(on: .lan, ["env", "PORTKEEPER_DB=\(lab.registryPath)", try Products.path("keep-port"), Lab.descriptionURL])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.hasPrefix("8080/tcp is forwarded by "), "\(run.stdout)")
            let entry = try #require(try await lab.upnpcList().first { $0.externalPort == 8080 })
            #expect(entry.internalClient == Lab.lanClient)
            let mappings = try await lab.portkeeper(["mappings"])
            #expect(mappings.stdout.contains("8080") && mappings.stdout.contains("web server"), "\(mappings.stdout)")
            // Run again: the declaration is there already, the gateway in sync.
            let again = try await lab.run(on: .lan, ["env", "PORTKEEPER_DB=\(lab.registryPath)", try Products.path("keep-port"), Lab.descriptionURL])
            #expect(again.status == 0 && again.stdout.hasPrefix("8080/tcp is forwarded by "), "\(again.stderr)")
        }
    }
}
