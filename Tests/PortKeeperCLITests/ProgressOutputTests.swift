import Foundation
import IGDClient
import IGDProtocol
import IGDTestSupport
import MappingRegistry
import PortKeeper
@testable import portkeeper
import Testing

/// What a reconcile shows while it works (issue 10 §4), in process: each operation's line is
/// written as soon as it is over, not at the end; on a terminal a progress line is rewritten in
/// place; never an escape sequence when stdout is not a terminal, nor anything under --json.
@Suite("Reconcile progress on stdout, in process")
struct ProgressOutputTests {
    /// Text written, as ``ProgressOutput`` writes it.
    final class Written: @unchecked Sendable {
        private let lock = NSLock()
        private var text = ""
        func append(_ more: String) { lock.withLock { text += more } }
        var all: String { lock.withLock { text } }
    }

    /// A gateway in memory whose AddPortMapping for one port waits until released: a test can
    /// look at what the CLI wrote while a reconcile is still at work.
    final class GateGateway: MappingGateway, @unchecked Sendable {
        private let lock = NSLock()
        private var table: [PortMappingEntry] = []
        private var waiting: CheckedContinuation<Void, Never>?
        private var released = false
        let blockedPort: UInt16

        init(blocking port: UInt16) { blockedPort = port }

        /// An add for the blocked port is waiting.
        var isHolding: Bool { lock.withLock { waiting != nil } }

        func release() {
            let waiter: CheckedContinuation<Void, Never>? = lock.withLock {
                released = true
                defer { waiting = nil }
                return waiting
            }
            waiter?.resume()
        }

        func localAddress() throws -> IPv4Address { IPv4Address(192, 168, 1, 10) }
        func externalAddress() async throws -> ExternalAddress { ExternalAddress(reported: "203.0.113.7") }
        func mappings() async throws -> PortMappingTable? { PortMappingTable(entries: lock.withLock { table }, method: .listOfPortMappings) }
        func add(_ entry: PortMappingEntry) async throws {
            if entry.externalPort == blockedPort {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let now = lock.withLock { () -> Bool in
                        if released { return true }
                        waiting = continuation
                        return false
                    }
                    if now { continuation.resume() }
                }
            }
            lock.withLock { table.append(entry) }
        }
        func delete(_ entry: PortMappingEntry) async throws {
            lock.withLock { table.removeAll { MappingKey($0) == MappingKey(entry) } }
        }
        func extendingDeadline(by extra: Duration) -> GateGateway { self }
    }

    /// Reconciles the seeded registry (9000/tcp then 9001/udp to add) through `gate`, showing
    /// progress with `output`; returns the reconcile's task.
    static func startReconcile(_ seeded: SeededRegistry, through gate: GateGateway, output: ProgressOutput) throws -> Task<Keeper.ReconcileReport, any Error> {
        var keeper = seeded.keeper
        keeper.mappingGateways = { _ in gate }
        let record = try #require(try keeper.registry.gateways().first)
        return Task { try await keeper.reconcile(record, options: Planner.Options(), progress: output.handle) }
    }

    @Test("The first operation's line is written while the second is still on its way; no escape sequence off a terminal")
    func linesAsTheyHappen() async throws {
        let seeded = try SeededRegistry()
        defer { seeded.scratch.remove() }
        let gate = GateGateway(blocking: 9001)
        let written = Written()
        let output = ProgressOutput(json: false, terminal: false, write: written.append)
        let reconcile = try Self.startReconcile(seeded, through: gate, output: output)

        try await waitUntil("the second AddPortMapping is held") { gate.isHolding }
        #expect(written.all == "  added         9000/tcp → 192.168.1.10:9000 'seed'\n")
        gate.release()
        let report = try await reconcile.value
        output.finish()

        #expect(report.succeeded)
        #expect(written.all == "  added         9000/tcp → 192.168.1.10:9000 'seed'\n  added         9001/udp → 192.168.1.50:9011 'game'\n")
        #expect(!written.all.contains("\u{1B}") && !written.all.contains("\r"))
        // The summary at the end does not say them again.
        #expect(output.notYetShown(report.changes).isEmpty)
        #expect(!Render.reconcile(report, changes: output.notYetShown(report.changes)).contains("added"))
    }

    @Test("On a terminal a progress line is rewritten in place while an operation is on its way, and cleared before each line")
    func indicatorOnATerminal() async throws {
        let seeded = try SeededRegistry()
        defer { seeded.scratch.remove() }
        let gate = GateGateway(blocking: 9001)
        let written = Written()
        let output = ProgressOutput(json: false, terminal: true, write: written.append)
        let reconcile = try Self.startReconcile(seeded, through: gate, output: output)

        try await waitUntil("the second AddPortMapping is held") { gate.isHolding }
        #expect(written.all.hasSuffix("\r\u{1B}[K[2/2] adding 9001/udp …"), "\(written.all.debugDescription)")
        #expect(written.all.contains("\r\u{1B}[K[1/2] adding 9000/tcp …\r\u{1B}[K  added         9000/tcp"), "\(written.all.debugDescription)")
        gate.release()
        _ = try await reconcile.value
        output.finish()
        #expect(written.all.hasSuffix("'game'\n"), "the indicator is cleared by the last line: \(written.all.debugDescription)")
    }

    @Test("Under --json nothing is written while it works, terminal or not")
    func nothingUnderJSON() async throws {
        for terminal in [false, true] {
            let seeded = try SeededRegistry()
            defer { seeded.scratch.remove() }
            let gate = GateGateway(blocking: 0)
            let written = Written()
            let output = ProgressOutput(json: true, terminal: terminal, write: written.append)
            let report = try await Self.startReconcile(seeded, through: gate, output: output).value
            output.finish()
            #expect(report.operations.count == 2)
            #expect(written.all.isEmpty, "\(written.all.debugDescription)")
        }
    }
}
