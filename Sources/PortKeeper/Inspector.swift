import IGDClient
import IGDProtocol
import Logging

/// The read-only use cases: find gateways, report their status, list their mappings.
public struct Inspector: Sendable {
    /// Talks to the gateways it finds.
    public let client: GatewayClient
    /// How the LAN is searched when no description URL is given.
    public var discovery: DiscoveryOptions

    /// An inspector that searches with `discovery` and talks through `client`.
    public init(client: GatewayClient = GatewayClient(), discovery: DiscoveryOptions = DiscoveryOptions()) {
        self.client = client
        self.discovery = discovery
    }

    /// Every gateway discovery finds, or the one at `url` (discovery skipped). Finding a
    /// gateway by name is the registry's (`Registry.gateway(_:)`), never a network search.
    /// - Throws: ``PortKeeperError`` `notFound` when none is found.
    public func gateways(at url: GatewayURL?, probe: GatewayClient.ProbePolicy = .always) async throws -> [Gateway] {
        if let url {
            return [try await describe(url, policy: probe)]
        }
        let result = try await search(probe: probe)
        guard !result.gateways.isEmpty else { throw notFound(result) }
        return result.gateways
    }

    /// The one gateway discovery finds, or the one at `url`.
    /// - Parameters:
    ///   - url: the gateway's description URL; nil searches the LAN (SSDP multicast).
    ///   - probe: `.whenChoosing` skips the status probe when the answer is not shown.
    /// - Throws: ``PortKeeperError`` `notFound` when none is found, `ambiguous` when several are.
    public func gateway(at url: GatewayURL?, probe: GatewayClient.ProbePolicy = .always) async throws -> Gateway {
        let found = try await gateways(at: url, probe: probe)
        guard found.count == 1 else { throw Self.several(found) }
        return found[0]
    }

    /// The error when several gateways answered (double NAT seen from inside, two routers on
    /// one LAN): none is preferred, not even the one with a public address; each is named with
    /// its external address and the user chooses.
    public static func several(_ found: [Gateway]) -> PortKeeperError {
        let names = found.map { gateway in
            let address = gateway.externalAddress.map { "external \($0.reported.isEmpty ? "none" : $0.reported) (\($0.addressClass.rawValue))" } ?? "external address unknown"
            return "\(gateway.udn) '\(gateway.friendlyName)' at \(gateway.descriptionURL), \(address)"
        }
        return PortKeeperError(.ambiguous, "\(found.count) gateways answered: " + names.joined(separator: "; "), context: .severalGateways)
    }

    /// The gateway's mapping table.
    public func mappings(on gateway: Gateway) async throws -> PortMappingTable {
        do {
            return try await client.portMappings(on: gateway.service)
        } catch {
            throw Self.explain(error, doing: "listing the mappings of \(gateway.friendlyName)")
        }
    }

    func search(probe: GatewayClient.ProbePolicy, cutoff: SearchCutoff? = nil) async throws -> GatewayClient.DiscoveryResult {
        do {
            return try await client.discover(discovery, probe: probe, cutoff: cutoff)
        } catch let error as DiscoveryError {
            throw PortKeeperError(.localNetwork, "discovery failed: \(error)", context: .discoveryFailed)
        }
    }

    func describe(_ url: GatewayURL, policy: GatewayClient.ProbePolicy) async throws -> Gateway {
        do {
            return try await client.describe(url, probe: policy)
        } catch {
            // Said once: most of these errors name the URL themselves.
            throw Self.explain(error, doing: "\(error)".contains(url.description) ? "reading the gateway description" : "reading the gateway description at \(url)")
        }
    }

    func notFound(_ result: GatewayClient.DiscoveryResult, portControlServer server: (address: IPv4Address, port: UInt16)? = nil) -> PortKeeperError {
        let waited = Double(discovery.window.components.seconds) + Double(discovery.window.components.attoseconds) / 1e18
        let where_ = discovery.interfaceName.map { "on \($0)" } ?? "on any interface"
        if !result.failures.isEmpty {
            let failures = result.failures.map { "\($0.location): \(Failure.clean($0.reason))" }.joined(separator: "; ")
            return PortKeeperError(.notFound, "a device answered but is not a usable gateway: \(failures)", context: .noUsableGateway)
        }
        let portControl = server.map { "; no NAT-PMP or PCP server answered at \($0.address):\($0.port)" } ?? ""
        return PortKeeperError(.notFound, "no UPnP gateway answered \(where_) within \(waited.formatted(.number.precision(.fractionLength(0...1)))) s" + portControl,
                               context: .noGatewayAnswered)
    }

    /// Turns a library error into one line saying what happened (see ``Failure``).
    public static func explain(_ error: any Error, doing what: String) -> PortKeeperError {
        Failure.explain(error, doing: what)
    }
}
