import ArgumentParser
import Foundation
import IGDClient
import IGDProtocol
import PortKeeper

/// How to find the gateway: discovery settings and an optional explicit reference.
struct DiscoveryArguments: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Listen for this many seconds and report everything that answered (default: return shortly after the first gateway answers, 2 s at most).", valueName: "seconds"))
    var timeout: Double?

    @Option(name: .long, help: ArgumentHelp("Search only on this network interface.", valueName: "name"))
    var interface: String?

    @Option(name: .long, help: ArgumentHelp("MX: seconds a device may wait before answering (1-5).", valueName: "seconds"))
    var mx: Int = 1

    @Flag(name: .long, help: "Log what is sent, received and refused, on stderr.")
    var verbose = false

    @Option(name: .long, help: ArgumentHelp("The most seconds the command may spend with the gateway (default: 60, plus 5 for each change a reconcile sends).", valueName: "seconds"))
    var deadline: Double?

    @Option(name: .customLong("request-timeout"), help: ArgumentHelp("The most seconds the router may take over one request (default: 5, or $PORTKEEPER_REQUEST_TIMEOUT); raise it for a slow router.", valueName: "seconds"))
    var requestTimeout: Double?

    /// The range `--request-timeout` and `$PORTKEEPER_REQUEST_TIMEOUT` accept.
    static let requestTimeouts: ClosedRange<Double> = 1...120

    func validate() throws {
        if let requestTimeout, !Self.requestTimeouts.contains(requestTimeout) {
            throw ValidationError("--request-timeout must be between 1 and 120 seconds")
        }
        _ = try Self.requestTimeoutFromEnvironment()
        _ = try Self.portControlTarget()
        if let deadline, !(1...86_400).contains(deadline) {
            throw ValidationError("--deadline must be between 1 and 86400 seconds")
        }
        if let timeout, !(0.1...60).contains(timeout) {
            throw ValidationError("--timeout must be between 0.1 and 60 seconds")
        }
        guard (1...5).contains(mx) else { throw ValidationError("--mx must be between 1 and 5") }
    }

    var options: DiscoveryOptions {
        var options = DiscoveryOptions()
        options.mx = mx
        options.interfaceName = interface
        if let timeout {
            options.window = .milliseconds(Int(timeout * 1000))
            options.waitFullWindow = true
        }
        // validate() refused a bad value already.
        options.portControl = (try? Self.portControlTarget()) ?? .off
        if let (host, port) = Self.searchTarget() {
            options.targetHost = host
            options.targetPort = port
            if host.hasPrefix("127.") {
                // Only the loopback interface can reach a loopback target.
                options.localInterfaces = [SearchInterface(name: "lo", address: IPv4Address(127, 0, 0, 1))]
            }
        }
        return options
    }

    /// `$PORTKEEPER_SSDP_TARGET` ("IPv4:PORT"): where searches go instead of the multicast group
    /// 239.255.255.250:1900. The test suite points every portkeeper it runs at loopback, so that
    /// a test that makes it search (a gateway gone quiet is looked for again) never sends a
    /// packet to a real network; a user may point it at a router that answers unicast searches.
    static func searchTarget(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> (String, Int)? {
        guard let text = environment["PORTKEEPER_SSDP_TARGET"], let colon = text.lastIndex(of: ":"),
              let address = IPv4Address(text[..<colon]), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port)
        else { return nil }
        return (address.description, port)
    }

    /// Where discovery's NAT-PMP/PCP probe goes, from `$PORTKEEPER_PCP_SERVER`: "IPv4:PORT"
    /// names a server, "off" sends no probe; unset, the default gateway is probed, except that
    /// with `$PORTKEEPER_SSDP_TARGET` set (the test suite sets it) no probe is sent at all, so
    /// that a test never sends one to a real network.
    /// - Throws: `ValidationError` for any other value.
    static func portControlTarget(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> PortControlTarget {
        guard let text = environment["PORTKEEPER_PCP_SERVER"], !text.isEmpty else {
            return searchTarget(environment) == nil ? .automatic : .off
        }
        if text == "off" { return .off }
        guard let colon = text.lastIndex(of: ":"), let address = IPv4Address(text[..<colon]),
              let port = UInt16(text[text.index(after: colon)...]), port > 0
        else {
            throw ValidationError("PORTKEEPER_PCP_SERVER must be IPv4:PORT or off, not '\(text.prefix(40))'")
        }
        return .server(address, port: port)
    }

    /// The default overall deadline of a command against a gateway.
    static let defaultDeadline: Duration = .seconds(60)

    /// A client whose every request fits in the command's deadline, named after the command
    /// ("list did not finish within 60 s").
    func client() -> GatewayClient {
        var client = GatewayClient()
        if let seconds = requestTimeout ?? (try? Self.requestTimeoutFromEnvironment()) ?? nil {
            client.limits = .request(seconds: seconds)
        }
        let length = deadline.map { Duration.milliseconds(Int($0 * 1000)) } ?? Self.defaultDeadline
        client.deadline = Deadline(CommandLine.arguments.dropFirst().first ?? "portkeeper", in: length)
        return client
    }
}

extension DiscoveryArguments {
    /// `$PORTKEEPER_REQUEST_TIMEOUT`, when set: the default of `--request-timeout`.
    static func requestTimeoutFromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Double? {
        guard let text = environment["PORTKEEPER_REQUEST_TIMEOUT"], !text.isEmpty else { return nil }
        guard let seconds = Double(text), requestTimeouts.contains(seconds) else {
            throw ValidationError("PORTKEEPER_REQUEST_TIMEOUT must be a number of seconds between 1 and 120, not '\(text.prefix(20))'")
        }
        return seconds
    }
}

struct GatewayArgument: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The gateway: its UDN (or a unique prefix) or its description URL.", valueName: "id"))
    var gateway: String?

    /// `--gateway` as every command reads it (``GatewayReference/init(parsing:)``).
    func reference() throws -> GatewayReference {
        try GatewayReference(parsing: gateway)
    }
}

struct OutputArguments: ParsableArguments {
    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false
}

extension GatewayProtocol: ExpressibleByArgument {}
