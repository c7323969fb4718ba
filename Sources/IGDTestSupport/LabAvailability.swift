import Foundation

/// Whether this machine can run the real-gateway lab.
public enum LabAvailability: Sendable, Equatable {
    /// `scripts/lab.sh check` passed.
    case available
    /// The lab cannot run here, and why (e.g. "the lab needs root (network namespaces)").
    case unavailable(reason: String)
}

extension Lab {
    /// Whether the lab can run here, found once per process by `scripts/lab.sh check`.
    public static var availability: LabAvailability { cachedAvailability }

    private static let cachedAvailability: LabAvailability = checkAvailability()

    /// Whether the lab can run here with Debian's `natpmpc` on the LAN client (the reference
    /// NAT-PMP client of ``natpmpc(_:timeout:)``), found once per process by
    /// `scripts/lab.sh check natpmpc`.
    public static var natpmpcAvailability: LabAvailability { cachedNATPMPCAvailability }

    private static let cachedNATPMPCAvailability: LabAvailability = checkAvailability(tools: ["natpmpc"])

    /// ``shouldRun`` for lab tests that drive `natpmpc`.
    public static var shouldRunWithNATPMPC: Bool {
        isRequired || natpmpcAvailability == .available
    }

    /// ``skipReason`` for lab tests that drive `natpmpc`.
    public static var natpmpcSkipReason: String? {
        guard !shouldRunWithNATPMPC, case .unavailable(let reason) = natpmpcAvailability else { return nil }
        return "lab unavailable: \(reason) (set PORTKEEPER_REQUIRE_LAB=1 to make this a failure)"
    }

    /// Whether a lab that cannot run must fail the tests instead of skipping them: true when the
    /// environment has CI=true (or 1) or PORTKEEPER_REQUIRE_LAB=1.
    public static var isRequired: Bool {
        let environment = ProcessInfo.processInfo.environment
        let ci = environment["CI"]?.lowercased()
        return ci == "true" || ci == "1" || environment["PORTKEEPER_REQUIRE_LAB"] == "1"
    }

    /// Whether lab tests should run: the lab is available, or it is required (so that starting
    /// it fails loudly). Suits `@Test(.enabled(if: Lab.shouldRun, …))`.
    public static var shouldRun: Bool {
        isRequired || availability == .available
    }

    /// Why lab tests are skipped here, or nil when they run.
    public static var skipReason: String? {
        guard !shouldRun, case .unavailable(let reason) = availability else { return nil }
        return "lab unavailable: \(reason) (set PORTKEEPER_REQUIRE_LAB=1 to make this a failure)"
    }

    private static func checkAvailability(tools: [String] = []) -> LabAvailability {
        let script = RepositoryPaths.labScript.path
        guard FileManager.default.fileExists(atPath: script) else {
            return .unavailable(reason: "the lab script is missing at \(script)")
        }
        do {
            let result = try ProcessRunner.runBlocking("bash", [script, "check"] + tools, timeout: .seconds(30))
            if result.succeeded { return .available }
            let said = (result.stdout + result.stderr).trimmingCharacters(in: .whitespacesAndNewlines)
            return .unavailable(reason: said.isEmpty ? "lab.sh check exited with status \(result.status)" : said)
        } catch {
            return .unavailable(reason: "lab.sh check could not run: \(error)")
        }
    }
}
