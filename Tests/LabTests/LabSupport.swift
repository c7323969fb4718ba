import Foundation
import IGDTestSupport
import Testing

/// The trait every lab test carries: runs where the lab can (or must) run, else a skip saying why.
let labEnabled: ConditionTrait = .enabled(if: Lab.shouldRun, Comment(rawValue: Lab.skipReason ?? "the lab runs here"))

/// The trait of lab tests that drive Debian's natpmpc on the LAN client: ``labEnabled``, and
/// natpmpc is installed (or the lab is required).
let natpmpcLabEnabled: ConditionTrait = .enabled(
    if: Lab.shouldRunWithNATPMPC, Comment(rawValue: Lab.natpmpcSkipReason ?? "the lab runs here with natpmpc"))

/// Starts a lab, runs `body`, and removes the lab even when `body` fails.
func withLab(_ profile: LabProfile, lifetimes: LabLifetimes? = nil, _ body: (Lab) async throws -> Void) async throws {
    let lab: Lab
    do {
        lab = try await Lab.start(profile: profile, lifetimes: lifetimes)
    } catch {
        Issue.record("the lab could not start: \(error)")
        return
    }
    func remove() async {
        await lab.takeDown()
        for suffix in ["", "-wal", "-shm", ".lock"] { try? FileManager.default.removeItem(atPath: lab.registryPath + suffix) }
    }
    do {
        try await body(lab)
    } catch {
        await remove()
        throw error
    }
    await remove()
}

extension Lab {
    /// Runs the built `portkeeper` on the LAN client.
    @discardableResult
    func portkeeper(_ arguments: [String]) async throws -> ProcessResult {
        try await run(on: .lan, [try Products.path("portkeeper")] + arguments + ["--db", registryPath])
    }

    /// The registry the lab's portkeeper runs share (removed with the lab).
    var registryPath: String { FileManager.default.temporaryDirectory.appendingPathComponent("portkeeper-lab-\(name).sqlite").path
    }

    /// Runs the built `lab-probe` (the library's actions) on the LAN client.
    @discardableResult
    func probe(_ arguments: [String]) async throws -> ProcessResult {
        try await run(on: .lan, [try Products.path("lab-probe")] + arguments)
    }

    /// `upnpc -l` on the LAN client, parsed.
    /// upnpc gives up on a slow answer from the gateway (its own short timeouts) and then lists
    /// nothing, exiting 1: on a busy machine, ask again, for up to 30 s, rather than read that
    /// as an empty table.
    func upnpcList() async throws -> [UpnpcEntry] {
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            let result = try await run(on: .lan, ["upnpc", "-u", Lab.descriptionURL, "-l"])
            if result.status == 0 || ContinuousClock.now >= deadline { return UpnpcEntry.parse(result.stdout) }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// Opens a TCP connection from the outside host to the gateway's WAN address and returns
    /// what the server at the other end said, or nil when the connection failed.
    func connectFromOutside(port: UInt16) async throws -> String? {
        let result = try await run(on: .outside, ["socat", "-T", "3", "-", "TCP:\(Lab.wanGateway):\(port),connect-timeout=3"], timeout: .seconds(10), stdin: "")
        return result.status == 0 ? result.stdout : nil
    }
}

/// One line of `upnpc -l`: ` 0 TCP  9090->192.168.77.2:9090  'desc' '' 604798`.
struct UpnpcEntry: Equatable {
    var proto: String
    var externalPort: UInt16
    var internalClient: String
    var internalPort: UInt16
    /// As upnpc prints it: the raw XML text, entities not decoded.
    var description: String
    var lease: UInt32

    static func parse(_ output: String) -> [UpnpcEntry] {
        let pattern = /^\s*\d+\s+(TCP|UDP)\s+(\d+)->([0-9.]+):(\d+)\s+'(.*)'\s+'(.*)'\s+(\d+)\s*$/
        return output.split(separator: "\n").compactMap { line in
            guard let m = String(line).wholeMatch(of: pattern) else { return nil }
            return UpnpcEntry(
                proto: String(m.1), externalPort: UInt16(m.2)!, internalClient: String(m.3),
                internalPort: UInt16(m.4)!, description: String(m.5), lease: UInt32(m.7)!
            )
        }
    }
}

/// The JSON `portkeeper list --json` prints.
struct ListedMapping: Decodable, Equatable {
    var remoteHost: String
    var externalPort: UInt16
    var `protocol`: String
    var internalClient: String
    var internalPort: UInt16
    var enabled: Bool
    var description: String
    var leaseDuration: UInt32
}

struct DiscoveredGateway: Decodable {
    var udn: String
    var friendlyName: String
    var descriptionURL: String
    var serviceType: String
    var controlURL: String
    var externalIP: String?
    var doubleNAT: Bool?
    var connectionStatus: String?
}

/// A change as `history --json` prints it.
struct LabChange: Decodable {
    struct Key: Decodable, CustomStringConvertible {
        var `protocol`: String
        var externalPort: UInt16
        var description: String { "\(externalPort)/\(`protocol`.lowercased())" }
    }
    var kind: String
    var key: Key?
    var summary: String
    var detail: String { summary }
}

/// The list a --json document holds in `field` ("revisions", "gateways", "mappings").
func decode<T: Decodable>(_ type: [T].Type, _ field: String, _ result: ProcessResult) throws -> [T] {
    #expect(result.status == 0, "exit \(result.status): \(result.stderr)")
    let document = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
    let list = try JSONSerialization.data(withJSONObject: document?[field] ?? [Any]())
    return try JSONDecoder().decode([T].self, from: list)
}

func decode<T: Decodable>(_ type: T.Type, _ result: ProcessResult) throws -> T {
    #expect(result.status == 0, "exit \(result.status): \(result.stderr)")
    return try JSONDecoder().decode(T.self, from: Data(result.stdout.utf8))
}

extension BackgroundProcess {
    /// Stops it without blocking a Swift concurrency thread while it winds down. The grace
    /// before SIGKILL is generous: these tests judge how it stops, not how fast on a busy machine.
    func stop() async -> ProcessResult {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: self.terminate(grace: .seconds(20))) }
        }
    }

    /// Waits until its standard error contains `text`.
    func waitForLog(_ text: String, timeout: Duration = .seconds(30)) async throws -> Bool {
        try await waitFor(timeout: timeout, every: .milliseconds(50)) { stderrSoFar.contains(text) } != nil
    }
}

/// Polls `condition` every `every` until it holds or `timeout` passes; returns how long it took,
/// or nil when it never held.
func waitFor(timeout: Duration, every: Duration = .milliseconds(100), _ condition: () async throws -> Bool) async throws -> Duration? {
    let start = ContinuousClock.now
    while ContinuousClock.now - start <= timeout {
        if try await condition() { return ContinuousClock.now - start }
        try await Task.sleep(for: every)
    }
    return nil
}

/// `PRAGMA integrity_check` of a registry file, from another SQLite client.
func integrityCheck(_ path: String) async throws -> String {
    try await SQLiteShell.integrityCheck(path)
}

/// How many journaled operations are still pending or unknown.
func unresolvedOperations(_ path: String) async throws -> Int {
    try await SQLiteShell.unresolvedOperations(path)
}
