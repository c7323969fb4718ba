import ArgumentParser
import Foundation
import IGDClient
import IGDProtocol
import IGDTestSupport
import MappingRegistry
import PortKeeper
@testable import portkeeper
import Testing

/// Every command line of the bad-input table (``BadInputTable/cases``), checked in-process the
/// way portkeeper checks it: parsed by the CLI's own commands (ArgumentParser and each
/// command's `validate()`), then put through the same checks, in the same order, as the
/// command's `run()` before it could reach a gateway, against a registry seeded like the
/// end-to-end one. The refusal must render to one line saying what the table expects, exit 64
/// (a usage error), and leave the registry's bytes as they were.
///
/// No process and no network: milliseconds a case. That `run()` really makes these checks,
/// and that the one line reaches stderr, is what the end-to-end samples of each family prove
/// (``BadInputTable/endToEnd`` in PortKeeperProcessTests).
@Suite("Bad input, in process: every case refused in one line, registry unchanged")
struct BadInputInProcessTests {
    @Test("refused with one line; registry bytes and -wal bytes unchanged", arguments: BadInputTable.cases)
    func refused(_ bad: BadInputTable.BadCase) async throws {
        let seeded = try SeededRegistry()
        defer { seeded.scratch.remove() }
        let before = seeded.scratch.files()
        #expect(before.db != nil)

        let refusal = await Self.refusal(bad.arguments, keeper: seeded.keeper)

        #expect(seeded.scratch.files() == before, "the registry's files changed")
        switch refusal {
        case nil:
            Issue.record("\(bad.arguments) was accepted")
        case .argumentParser(let message)?:
            #expect(bad.byArgumentParser, "\(bad.arguments): refused by ArgumentParser, not by portkeeper: \(message)")
            #expect(message.contains(bad.expected), "\(bad.arguments): expected “\(bad.expected)” in: \(message)")
        case .portkeeper(let line, let exitCode)?:
            #expect(!bad.byArgumentParser, "\(bad.arguments): parsed, then refused by portkeeper: \(line)")
            // Every case is an input error: exit 64 (README, "Exit codes").
            #expect(exitCode == 64, "\(bad.arguments): exit \(exitCode)")
            #expect(line.split(whereSeparator: \.isNewline).count == 1, "\(bad.arguments): more than one line: \(line)")
            #expect(line.contains(bad.expected), "\(bad.arguments): expected “\(bad.expected)” in: \(line)")
        }
    }

    /// The end-to-end samples are cases of the table, so that each is checked both ways.
    @Test("every end-to-end sample is a case of the table, and every family has one")
    func samplesAreCases() {
        let table = Set(BadInputTable.cases.map(\.arguments))
        for sample in BadInputTable.endToEndSamples {
            #expect(table.contains(sample), "\(sample) is not in the table")
        }
        #expect(BadInputTable.endToEnd.count == BadInputTable.endToEndSamples.count)
    }

    /// The bytes BadInputTests' printf makes (a\377b, caf\351, \300\200, \355\240\200 lone surrogate).
    @Test("argv that is not UTF-8 is refused in one line", arguments: [
        [0x61, 0xFF, 0x62], [0x63, 0x61, 0x66, 0xE9], [0xC0, 0x80], [0xED, 0xA0, 0x80] + Array(" lone surrogate".utf8),
    ] as [[UInt8]])
    func invalidUTF8Description(bytes: [UInt8]) {
        let argv: [[UInt8]] = [Array("portkeeper".utf8), Array("add".utf8), Array("8080/tcp".utf8), Array("--description".utf8), bytes]
        let error = #expect(throws: PortKeeperError.self) { try DeclarationInput.checkUTF8(argv) }
        let line = error.map { ErrorRendering.line($0, doing: "add") } ?? ""
        #expect(line.contains("is not valid UTF-8"), "\(line)")
        #expect(line.split(whereSeparator: \.isNewline).count == 1)
    }

    // MARK: The commands' checks, in-process

    /// How a command line was refused.
    enum Refusal {
        /// ArgumentParser's message (the CLI prints "Error: " and it, then the usage).
        case argumentParser(String)
        /// portkeeper's line (the CLI prints "portkeeper: error: " and it) and its exit code.
        case portkeeper(String, exitCode: Int32)
    }

    /// `arguments` (without `--db`) parsed and checked as the command's `run()` does up to the
    /// point where it would reach a gateway; nil when nothing refused it.
    static func refusal(_ arguments: [String], keeper: Keeper) async -> Refusal? {
        let command: any ParsableCommand
        do {
            command = try PortKeeperCommand.parseAsRoot(arguments)
        } catch {
            return .argumentParser(PortKeeperCommand.message(for: error))
        }
        do {
            try await check(command, keeper: keeper)
            return nil
        } catch {
            // As reportingFailures renders it (a declaration file's InputError aside: none here).
            let exitCode = ExitStatus.of(error)
            return .portkeeper(ErrorRendering.line(error, doing: arguments.first ?? "the command"), exitCode: exitCode.rawValue)
        }
    }

    /// The checks of each command's `run()` before anything is sent, in its order. A command
    /// this does not know is a failure of the test: add it here.
    static func check(_ command: any ParsableCommand, keeper: Keeper) async throws {
        switch command {
        case let add as AddCommand:
            let key = try DeclarationInput.key(add.mapping)
            let (client, port) = try DeclarationInput.target(add.to)
            if case .address(let address) = client {
                try DeclarationInput.client(address, localSubnets: LocalSubnets.current(), allowRemote: add.allowRemoteClient)
            }
            let declared = DeclaredMapping(key: key, client: client, internalPort: port ?? key.externalPort,
                                           description: try DeclarationInput.description(add.description), leaseDuration: try DeclarationInput.lease(add.lease))
            let record = try await gateway(add.gateway.gateway, keeper)
            _ = try keeper.declare(declared, gatewayID: record.id)
        case let remove as RemoveCommand:
            let key = try DeclarationInput.key(remove.mapping)
            let record = try keeper.registry.resolveGateway(remove.gateway.gateway)
            _ = try keeper.undeclare(key, gatewayID: record.id)
        case let plan as PlanCommand:
            try #require(plan.input.file == nil, "an in-process case must not read a file")
            _ = try await gateway(plan.gateway.gateway, keeper)
        case let reconcile as ReconcileCommand:
            _ = try await gateway(reconcile.gateway.gateway, keeper)
        case let history as HistoryCommand:
            _ = try history.gateway.gateway.map { try keeper.registry.resolveGateway($0) }
        case let rollback as RollbackCommand:
            // Refused before anything is restored or sent; apply: false keeps the network out
            // should it not be.
            _ = try await keeper.rollback(to: rollback.revision, apply: false)
        default:
            Issue.record("no in-process checks for \(type(of: command)); add them to BadInputInProcessTests.check")
        }
    }
}

extension BadInputInProcessTests {
    /// `keeper.gateway(reference)` as the commands call it; a reference by URL would reach the
    /// network, which no in-process case may.
    static func gateway(_ reference: String?, _ keeper: Keeper) async throws -> GatewayRecord {
        try #require(!(reference ?? "").contains("://"), "an in-process case must not name a gateway by URL")
        return try await keeper.gateway(reference)
    }
}

/// A registry seeded as ``withSeededRegistry(_:_:)`` seeds it, in-process and without a gateway
/// to talk to: one gateway known (at a documentation address, never contacted), 9000/tcp → this
/// host ("seed") and 9001/udp → 192.168.1.50:9011 ("game") declared. Seeded once; each case
/// gets a copy of its bytes in a directory of its own.
struct SeededRegistry {
    let scratch: ScratchRegistry
    let keeper: Keeper

    init() throws {
        scratch = try ScratchRegistry("bad-in-process")
        let seeded = try Self.seeded.get()
        try seeded.db.write(to: URL(fileURLWithPath: scratch.path))
        if let wal = seeded.wal { try wal.write(to: URL(fileURLWithPath: scratch.path + "-wal")) }
        keeper = Keeper(registry: try Registry(path: scratch.path), discovery: loopbackOnly, command: "portkeeper add")
    }

    /// The seeded registry's bytes (its file and -wal file), made once.
    static let seeded: Result<(db: Data, wal: Data?), any Error> = Result {
        let scratch = try ScratchRegistry("bad-in-process-seed")
        defer { scratch.remove() }
        try seed(scratch.path)
        let files = scratch.files()
        guard let db = files.db else { throw PortKeeperError("the seeded registry left no file") }
        return (db, files.wal)
    }

    /// Seeds a registry at `path` and closes it.
    static func seed(_ path: String) throws {
        let registry = try Registry(path: path)
        let service = ObservedGateway.Service(serviceType: .ipConnection2, serviceId: "urn:upnp-org:serviceId:WANIPConn1",
                                              controlURL: GatewayURL(host: IPv4Address(192, 0, 2, 1), port: 5000, target: "/ctl"))
        let gatewayID = try registry.recordGateway(ObservedGateway(
            udn: "uuid:in-process", friendlyName: "Seeded Router", manufacturer: "portkeeper tests", modelName: "in-process", modelNumber: "1",
            descriptionURL: GatewayURL(host: IPv4Address(192, 0, 2, 1), port: 5000, target: "/desc.xml"), services: [service], chosen: service, serviceChoice: "the only one",
            bootID: nil, externalAddress: nil
        )).record.id
        let keeper = Keeper(registry: registry, discovery: loopbackOnly, command: "portkeeper add")
        _ = try keeper.declare(DeclaredMapping(key: MappingKey(protocol: .tcp, externalPort: 9000), client: .thisHost, internalPort: 9000,
                                               description: "seed"), gatewayID: gatewayID)
        _ = try keeper.declare(DeclaredMapping(key: MappingKey(protocol: .udp, externalPort: 9001), client: .address(IPv4Address(192, 168, 1, 50)),
                                               internalPort: 9011, description: "game"), gatewayID: gatewayID)
    }
}

/// Discovery that can only reach loopback (port 9, where nothing answers): the keepers here must
/// never search a real network, even if a case went further than it should.
let loopbackOnly: DiscoveryOptions = {
    var options = DiscoveryOptions()
    options.localInterfaces = [SearchInterface(name: "lo", address: IPv4Address(127, 0, 0, 1))]
    options.targetHost = "127.0.0.1"
    options.targetPort = 9
    return options
}()
