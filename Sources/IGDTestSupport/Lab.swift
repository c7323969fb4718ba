import Foundation

/// What the lab's miniupnpd serves: which IGD it announces, and whether it answers NAT-PMP/PCP.
public enum LabProfile: String, Sendable, CaseIterable {
    /// IGDv2 (WANIPConnection:2, GetListOfPortMappings), UPnP only.
    case v2
    /// IGDv1 (miniupnpd's force_igd_desc_v1), UPnP only.
    case v1
    /// IGDv2 and NAT-PMP/PCP on UDP 5351 of the LAN address: one mapping table, two doors.
    case v2PMP = "v2-pmp"
    /// NAT-PMP/PCP on UDP 5351 only: UPnP is off (no SSDP answer, no description served).
    case pcpOnly = "pcp-only"

    /// Whether miniupnpd answers SSDP and serves the IGD description and control URLs.
    public var servesUPnP: Bool { self != .pcpOnly }

    /// Whether miniupnpd answers NAT-PMP and PCP on UDP ``Lab/pmpPort`` of its LAN address.
    public var servesNATPMP: Bool { self == .v2PMP || self == .pcpOnly }
}

/// The bounds miniupnpd puts on the lifetimes it grants over PCP (`min_lifetime`,
/// `max_lifetime`; miniupnpd's own defaults are 120 and 86400 s). miniupnpd 2.3.1 applies
/// them to PCP only: a NAT-PMP request gets the lifetime it asks for.
public struct LabLifetimes: Sendable, Equatable {
    /// The shortest lifetime granted, in seconds (at least 1).
    public var minimum: Int
    /// The longest lifetime granted, in seconds (at least ``minimum``).
    public var maximum: Int

    public init(minimum: Int, maximum: Int) {
        self.minimum = minimum
        self.maximum = maximum
    }

    /// Leases that lapse within seconds: `min_lifetime=5`, `max_lifetime=60`.
    public static let fastExpiry = LabLifetimes(minimum: 5, maximum: 60)

    /// The lab.sh arguments that set them.
    var scriptArguments: [String] { ["min_lifetime=\(minimum)", "max_lifetime=\(maximum)"] }
}

/// A machine of the lab, i.e. one of its network namespaces.
public enum LabHost: String, Sendable {
    /// The router running miniupnpd (192.168.77.1 on the LAN, 11.77.0.1 on the WAN).
    case gateway = "gw"
    /// The LAN client (192.168.77.2).
    case lan
    /// A host on the WAN side (11.77.0.2).
    case outside = "out"
}

/// A running real-gateway lab: network namespaces pk-NAME-gw / -lan / -out with miniupnpd on
/// the gateway, driven by scripts/lab.sh.
///
/// ```
/// outside (11.77.0.2) --wan-- gateway [miniupnpd] (11.77.0.1 | 192.168.77.1) --lan-- lan (192.168.77.2)
/// ```
/// Always ``stop()`` a lab (e.g. in a `defer`), failed test or not: it removes the namespaces.
public struct Lab: Sendable {
    /// The gateway's LAN address.
    public static let lanGateway = "192.168.77.1"
    /// The LAN client's address.
    public static let lanClient = "192.168.77.2"
    /// The gateway's WAN (external) address.
    public static let wanGateway = "11.77.0.1"
    /// The outside host's address.
    public static let wanOutside = "11.77.0.2"
    /// miniupnpd's HTTP port on the LAN.
    public static let httpPort = 5000
    /// Where miniupnpd serves its root description.
    public static let descriptionURL = "http://192.168.77.1:5000/rootDesc.xml"
    /// The UDP port miniupnpd answers NAT-PMP and PCP on (profiles ``LabProfile/v2PMP`` and
    /// ``LabProfile/pcpOnly``), on ``lanGateway``.
    public static let pmpPort = 5351

    /// The lab's name (1–8 lower-case letters or digits), part of its namespaces' names.
    public let name: String
    /// What miniupnpd serves.
    public let profile: LabProfile
    /// The PCP lifetime bounds miniupnpd was started with, or nil for its defaults.
    public let lifetimes: LabLifetimes?

    /// The lab script, scripts/lab.sh of this repository.
    public static var scriptPath: String { RepositoryPaths.labScript.path }

    /// Creates the namespaces and starts miniupnpd, under a fresh unique name.
    ///
    /// Throws ``LabError/unavailable(_:)`` when this machine cannot run the lab (see
    /// ``availability``), or ``LabError/commandFailed(_:)`` when setting it up fails; nothing is
    /// left behind in either case.
    /// `lifetimes` bounds what PCP grants (nil: miniupnpd's defaults). Returns once miniupnpd
    /// serves what the profile says: its description answers, its UDP 5351 socket is bound.
    public static func start(profile: LabProfile, lifetimes: LabLifetimes? = nil) async throws -> Lab {
        if case .unavailable(let reason) = availability {
            throw LabError.unavailable(reason)
        }
        let lab = Lab(name: try uniqueName(), profile: profile, lifetimes: lifetimes)
        do {
            try await lab.script(["up", lab.name, profile.rawValue] + (lifetimes?.scriptArguments ?? []), timeout: .seconds(120))
        } catch {
            await lab.takeDown()
            throw error
        }
        return lab
    }

    /// Stops miniupnpd, kills everything left in the namespaces and deletes them. Never throws;
    /// calling it again does no harm.
    public func stop() {
        _ = try? ProcessRunner.runBlocking("bash", [Self.scriptPath, "down", name], timeout: .seconds(60))
    }

    /// ``stop()`` from async code: on a thread of its own, since taking a lab down takes
    /// seconds, and a blocked thread of the Swift concurrency pool (two of them on two cores) is
    /// one the in-process fakes of the tests running beside it cannot answer on.
    public func takeDown() async {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                self.stop()
                continuation.resume()
            }
        }
    }

    /// Restarts miniupnpd with its rules flushed: every mapping is gone, as after a router reboot.
    public func reboot() async throws {
        try await script(["reboot", name], timeout: .seconds(60))
    }

    /// Restarts miniupnpd serving `profile` from now on, its rules flushed: the administrator
    /// changed what the router speaks (switched UPnP off and left PCP on, say). ``profile``
    /// keeps telling what it was started with.
    public func reboot(as profile: LabProfile) async throws {
        try await script(["reboot", name, profile.rawValue], timeout: .seconds(60))
    }

    /// Stops miniupnpd only (the gateway is "off"; the namespaces stay).
    public func stopGateway() async throws {
        try await script(["stop-gw", name], timeout: .seconds(60))
    }

    /// Starts miniupnpd again after ``stopGateway()``, returning once it serves what the profile
    /// says (HTTP, UDP 5351).
    public func startGateway() async throws {
        try await script(["start-gw", name], timeout: .seconds(60))
    }

    /// Runs `arguments` on `host` and returns its status and output (a non-zero status is not an
    /// error here: see ``ProcessResult/check(_:)``). Throws when it cannot start or times out.
    @discardableResult
    public func run(
        on host: LabHost,
        _ arguments: [String],
        timeout: Duration = .seconds(60),
        stdin: String? = nil
    ) async throws -> ProcessResult {
        try await ProcessRunner.run("bash", execArguments(host, arguments), stdin: stdin, timeout: timeout)
    }

    /// Starts `arguments` on `host` and leaves it running, e.g. a
    /// `socat TCP-LISTEN:9090,reuseaddr,fork EXEC:cat` server on the LAN client. ``stop()`` kills
    /// whatever is still running in the lab.
    public func startBackground(on host: LabHost, _ arguments: [String]) throws -> BackgroundProcess {
        BackgroundProcess(try RunningProcess("bash", execArguments(host, arguments), environment: nil, stdin: nil))
    }

    /// Waits until something on `host` listens on TCP `port`.
    public func waitUntilListening(on host: LabHost, tcpPort port: Int, timeout: Duration = .seconds(10)) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            let result = try await run(on: host, ["ss", "-Hltn", "sport = :\(port)"], timeout: .seconds(10))
            if result.succeeded && !result.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return }
            guard ContinuousClock.now < deadline else {
                throw LabError.timedOut("nothing listens on TCP port \(port) on \(host) after \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// The namespace of `host`, e.g. "pk-ab12cd34-lan".
    public func namespace(_ host: LabHost) -> String {
        "pk-\(name)-\(host.rawValue)"
    }

    /// What miniupnpd has logged so far (for diagnosing a failed test).
    public var gatewayLog: String {
        (try? String(contentsOfFile: Self.stateRoot + "/\(name)/miniupnpd.log", encoding: .utf8)) ?? ""
    }

    // MARK: Helpers

    /// Where lab.sh keeps each lab's state (PORTKEEPER_LAB_STATE, as the script reads it).
    private static var stateRoot: String {
        ProcessInfo.processInfo.environment["PORTKEEPER_LAB_STATE"] ?? "/run/portkeeper-lab"
    }

    private func execArguments(_ host: LabHost, _ arguments: [String]) -> [String] {
        [Self.scriptPath, "exec", name, host.rawValue] + arguments
    }

    /// Runs lab.sh with `arguments`, throwing when it fails.
    private func script(_ arguments: [String], timeout: Duration) async throws {
        let command = ["lab.sh"] + arguments
        let result: ProcessResult
        do {
            result = try await ProcessRunner.run("bash", [Self.scriptPath] + arguments, timeout: timeout)
        } catch {
            throw LabError.commandFailed("\(error)")
        }
        guard result.succeeded else {
            throw LabError.commandFailed("\(ProcessError.failed(command: command, result: result))")
        }
    }

    /// A random name no existing lab (namespaces or state folder) uses.
    private static func uniqueName() throws -> String {
        let existing = (try? ProcessRunner.runBlocking("ip", ["netns", "list"], timeout: .seconds(10)).stdout) ?? ""
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        for _ in 0..<100 {
            let name = "t" + String((0..<7).map { _ in alphabet.randomElement()! })
            let used = existing.contains("pk-\(name)-")
                || FileManager.default.fileExists(atPath: stateRoot + "/" + name)
            if !used { return name }
        }
        throw LabError.commandFailed("could not find an unused lab name")
    }
}

/// Why a lab operation failed.
public enum LabError: Error, CustomStringConvertible {
    /// This machine cannot run the lab (the reason lab.sh check gave).
    case unavailable(String)
    /// A lab.sh command failed; the text says which and shows its output.
    case commandFailed(String)
    /// Something the lab waited for did not happen in time.
    case timedOut(String)

    public var description: String {
        switch self {
        case .unavailable(let reason): "the lab cannot run here: \(reason)"
        case .commandFailed(let text): "lab command failed: \(text)"
        case .timedOut(let text): "lab timed out: \(text)"
        }
    }
}
