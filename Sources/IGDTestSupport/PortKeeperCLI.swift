/// How tests run the portkeeper executable against in-process fakes.
public enum PortKeeperCLI {
    /// Seconds a fake may take over one request before the CLI gives up, in tests that are not
    /// about timeouts. A fake answers in milliseconds on an idle machine; on a machine busy with
    /// other work (CI's neighbours, a release build beside the tests) a process can wait seconds
    /// for a CPU, and portkeeper's own 5 s would turn that wait into a failure the test is not
    /// about. Tests of timeouts pass `--request-timeout` themselves, which wins.
    public static let generousRequestTimeout = 30

    /// The environment to add for a run of portkeeper with `arguments`.
    public static func environment(for arguments: [String], adding extra: [String: String] = [:]) -> [String: String] {
        var environment = extra
        if !arguments.contains("--request-timeout"), environment["PORTKEEPER_REQUEST_TIMEOUT"] == nil {
            environment["PORTKEEPER_REQUEST_TIMEOUT"] = String(generousRequestTimeout)
        }
        // Searches go to a loopback port nothing answers on, never to the LAN's multicast group:
        // tests run in the machine's own network namespace.
        if environment["PORTKEEPER_SSDP_TARGET"] == nil {
            environment["PORTKEEPER_SSDP_TARGET"] = "127.0.0.1:9"
        }
        return environment
    }
}
