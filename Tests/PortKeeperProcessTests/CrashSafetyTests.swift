import Foundation
import IGDTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// §6: `portkeeper reconcile` killed with SIGKILL while the gateway has its request and has not
/// answered. The operation stays journaled as pending; the next reconcile resolves it by
/// reading the gateway (never by replaying it), ends with exactly the declared mappings, and
/// asks for each missing one once.
///
/// The fake cannot apply a request and then hang by itself (an injected reply replaces the
/// action), so "applied but never answered" is made by the test: when the hung request has
/// arrived, the test puts the requested entry into the fake's table before the kill, which is
/// what the gateway would hold had it acted. The lab test (LabCrashTests) kills at random
/// moments against the real miniupnpd.
@Suite("Crash safety: kill -9 in the middle of a reconcile")
struct CrashSafetyTests {
    static let declared = ["9101/tcp", "9102/udp", "9103/tcp", "9104/udp", "9105/tcp"]

    /// What the gateway did with the request that never got an answer.
    enum AtTheKill: String, Sendable, CaseIterable, CustomTestStringConvertible {
        /// Nothing: the entry is not there.
        case notApplied = "the gateway had not acted"
        /// It acted: the entry is there, only the answer is missing.
        case appliedWithoutAnswer = "the gateway had acted but not answered"

        var testDescription: String { rawValue }
    }

    @Test("killed during AddPortMapping: pending in the journal, resolved by reading, each missing mapping added once", arguments: AtTheKill.allCases)
    func killedDuringAdd(_ atTheKill: AtTheKill) async throws {
        try await withGateway { gateway in
            let registry = try ScratchRegistry("crash-add")
            defer { registry.remove() }
            for (index, key) in Self.declared.enumerated() {
                let gatewayArguments = index == 0 ? ["--gateway", gateway.descriptionURL] : []
                try await registry.portkeeper(["add", key, "--description", "crash \(key)", "--no-apply"] + gatewayArguments).check()
            }
            #expect(gateway.mappings.isEmpty)

            gateway.injectReply(action: "AddPortMapping", reply: .hang, times: 1)
            let killed = try await killReconcile(registry, gateway, whenItSent: "AddPortMapping") { call in
                if atTheKill == .appliedWithoutAnswer { gateway.setMappings(gateway.mappings + [try Self.mapping(call)]) }
            }
            #expect(killed.status == 128 + SIGKILL, "the reconcile was not killed: exit \(killed.status)\n\(killed.stdout)\n\(killed.stderr)")
            #expect(gateway.actionCount("AddPortMapping") == 1)

            #expect(try await registry.integrityCheck() == "ok")
            let pending = try await registry.unresolvedOperations()
            #expect(pending.count == 1, "\(pending)")
            #expect(pending.first?.hasPrefix("AddPortMapping ") == true && pending.first?.hasSuffix(" pending") == true, "\(pending)")

            try await expectRecovery(registry, gateway, declared: Self.declared, action: "AddPortMapping",
                                     sentAfterRestart: atTheKill == .notApplied ? 5 : 4,
                                     resolvedAs: atTheKill == .notApplied ? "resolved as failed" : "resolved as ok")
            let mappings = gateway.mappings
            #expect(mappings.count == 5)
            #expect(Set(mappings.map { "\($0.externalPort)/\($0.protocol.lowercased())" }) == Set(Self.declared))
            #expect(mappings.allSatisfy { $0.internalClient == "127.0.0.1" && $0.description == "crash \($0.externalPort)/\($0.protocol.lowercased())" })
        }
    }

    @Test("killed during DeletePortMapping: pending in the journal, resolved by reading, each remaining one deleted once", arguments: AtTheKill.allCases)
    func killedDuringDelete(_ atTheKill: AtTheKill) async throws {
        try await withGateway { gateway in
            let registry = try ScratchRegistry("crash-delete")
            defer { registry.remove() }
            for (index, key) in Self.declared.enumerated() {
                let gatewayArguments = index == 0 ? ["--gateway", gateway.descriptionURL] : []
                try await registry.portkeeper(["add", key, "--no-apply"] + gatewayArguments).check()
            }
            try await registry.portkeeper(["reconcile"]).check()
            #expect(gateway.mappings.count == 5)
            let removed = ["9101/tcp", "9102/udp", "9103/tcp"]
            for key in removed {
                try await registry.portkeeper(["remove", key, "--no-apply"]).check()
            }

            gateway.injectReply(action: "DeletePortMapping", reply: .hang, times: 1)
            let killed = try await killReconcile(registry, gateway, whenItSent: "DeletePortMapping") { call in
                if atTheKill == .appliedWithoutAnswer {
                    let port = try #require(call.argument("NewExternalPort").flatMap { UInt16($0) })
                    let proto = try #require(call.argument("NewProtocol"))
                    gateway.setMappings(gateway.mappings.filter { !($0.externalPort == port && $0.protocol == proto) })
                }
            }
            #expect(killed.status == 128 + SIGKILL, "the reconcile was not killed: exit \(killed.status)\n\(killed.stdout)\n\(killed.stderr)")

            #expect(try await registry.integrityCheck() == "ok")
            let pending = try await registry.unresolvedOperations()
            #expect(pending.count == 1, "\(pending)")
            #expect(pending.first?.hasPrefix("DeletePortMapping ") == true && pending.first?.hasSuffix(" pending") == true, "\(pending)")

            try await expectRecovery(registry, gateway, declared: ["9104/udp", "9105/tcp"], action: "DeletePortMapping",
                                     sentAfterRestart: atTheKill == .notApplied ? 3 : 2,
                                     resolvedAs: atTheKill == .notApplied ? "resolved as failed" : "resolved as ok")
            #expect(Set(gateway.mappings.map { "\($0.externalPort)/\($0.protocol.lowercased())" }) == ["9104/udp", "9105/tcp"])
        }
    }

    /// The reconcile after the kill: exits 0, resolves the pending operation by reading, sends
    /// `action` exactly `sentAfterRestart` times, leaves nothing unresolved; the next reconcile
    /// makes no revision and the plan is in sync.
    func expectRecovery(_ registry: ScratchRegistry, _ gateway: SimulatedGateway, declared: [String], action: String,
                        sentAfterRestart: Int, resolvedAs: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let sentBefore = gateway.actionCount(action)
        let revisionsBefore = try await registry.history().count
        let next = try await registry.portkeeper(["reconcile"])
        #expect(next.status == 0, "exit \(next.status)\n\(next.stdout)\n\(next.stderr)", sourceLocation: sourceLocation)
        #expect(!next.stderr.contains("error"), "\(next.stderr)", sourceLocation: sourceLocation)
        #expect(gateway.actionCount(action) - sentBefore == sentAfterRestart, "\(action) sent \(gateway.actionCount(action) - sentBefore) times after the restart", sourceLocation: sourceLocation)

        let history = try await registry.history()
        #expect(history.count == revisionsBefore + 1, sourceLocation: sourceLocation)
        let resolved = history.first?.changes.filter { $0.kind == "found-changed" && $0.detail.contains("resolved") } ?? []
        #expect(resolved.count == 1, "newest revision: \(history.first as Any)", sourceLocation: sourceLocation)
        #expect(resolved.first?.detail.contains(resolvedAs) == true, "\(resolved)", sourceLocation: sourceLocation)
        #expect(resolved.first?.detail.contains(action) == true, "\(resolved)", sourceLocation: sourceLocation)
        #expect(try await registry.unresolvedOperations() == [], sourceLocation: sourceLocation)
        #expect(try await SQLiteShell.query(registry.path, "SELECT count(*) FROM operation WHERE outcome = 'pending'") == "0", sourceLocation: sourceLocation)

        // Nothing left to do: no revision, nothing sent but reads.
        let counts = gateway.actionCounts
        let again = try await registry.portkeeper(["reconcile"])
        #expect(again.status == 0, "\(again.stderr)", sourceLocation: sourceLocation)
        #expect(try await registry.history().count == revisionsBefore + 1, "a reconcile with nothing to do made a revision", sourceLocation: sourceLocation)
        #expect(gateway.actionCount("AddPortMapping") == counts["AddPortMapping", default: 0], sourceLocation: sourceLocation)
        #expect(gateway.actionCount("DeletePortMapping") == counts["DeletePortMapping", default: 0], sourceLocation: sourceLocation)
        let plan = try await registry.portkeeper(["plan", "--exit-code"])
        #expect(plan.status == 0, "\(plan.stdout)\(plan.stderr)", sourceLocation: sourceLocation)
        // What the resolved operation added is portkeeper's, not a foreign entry.
        #expect(!plan.stdout.contains("= foreign"), "\(plan.stdout)", sourceLocation: sourceLocation)
        #expect(Set(try await registry.mappings().map { "\($0.externalPort)/\($0.protocol.lowercased())" }) == Set(declared), sourceLocation: sourceLocation)
        #expect(try await registry.integrityCheck() == "ok", sourceLocation: sourceLocation)
    }

    /// The mapping an AddPortMapping call asks for.
    static func mapping(_ call: FakeSOAPRequest) throws -> SimulatedGateway.Mapping {
        SimulatedGateway.Mapping(
            remoteHost: call.argument("NewRemoteHost") ?? "",
            externalPort: try #require(call.argument("NewExternalPort").flatMap { UInt16($0) }),
            protocol: try #require(call.argument("NewProtocol")),
            internalPort: try #require(call.argument("NewInternalPort").flatMap { UInt16($0) }),
            internalClient: try #require(call.argument("NewInternalClient")),
            enabled: call.argument("NewEnabled") == "1",
            description: call.argument("NewPortMappingDescription") ?? "",
            leaseDuration: call.argument("NewLeaseDuration").flatMap { UInt32($0) } ?? 0
        )
    }
}
