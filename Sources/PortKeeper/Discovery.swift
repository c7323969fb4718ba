import IGDClient
import IGDProtocol
import MappingRegistry

extension Inspector {
    /// What discovery found over the three protocols: the UPnP gateways that answered SSDP (or
    /// the one at the description URL given), and what the NAT-PMP/PCP server at the default
    /// gateway said.
    public struct Discovery: Sendable {
        /// The UPnP IGD gateways found, described and probed.
        public var gateways: [Gateway]
        /// What answered the NAT-PMP/PCP probe (at most one server today: the default gateway).
        public var portControl: [PortControlFinding]
        /// Where the probe went; nil when none was sent (`DiscoveryOptions.portControlServer(describing:defaultRoute:)`).
        public var portControlServer: (address: IPv4Address, port: UInt16)?
        /// Devices that answered SSDP but could not be used, with why.
        public var failures: [(location: GatewayURL, reason: String)]

        /// A result with these parts.
        public init(gateways: [Gateway], portControl: [PortControlFinding], portControlServer: (address: IPv4Address, port: UInt16)? = nil, failures: [(location: GatewayURL, reason: String)] = []) {
            self.gateways = gateways
            self.portControl = portControl
            self.portControlServer = portControlServer
            self.failures = failures
        }

        /// The UPnP gateway `finding` belongs to: the one whose control URL is on the server's
        /// address (one router, several protocols).
        public func gateway(for finding: PortControlFinding) -> Gateway? {
            gateways.first { $0.service.controlURL.host == finding.server }
        }

        /// One entry per gateway, whatever it answered over: the UPnP gateways in the order
        /// they answered, each with the NAT-PMP/PCP finding on its LAN address, then the
        /// NAT-PMP/PCP servers no UPnP gateway is on.
        public var found: [FoundGateway] {
            var entries = gateways.map { gateway in
                let host = gateway.service.controlURL.host
                return FoundGateway(upnp: gateway, portControl: portControl.first { $0.server == host }, portControlAsked: portControlServer?.address == host)
            }
            for finding in portControl where gateway(for: finding) == nil {
                entries.append(FoundGateway(portControl: finding, portControlAsked: true))
            }
            return entries
        }
    }

    /// A gateway as discovery found it: over UPnP IGD, NAT-PMP/PCP, or both (same LAN address).
    public struct FoundGateway: Sendable {
        /// Its UPnP IGD side, when it answered SSDP.
        public var upnp: Gateway?
        /// Its NAT-PMP/PCP side, when it answered the probe.
        public var portControl: PortControlFinding?

        /// Whether the NAT-PMP/PCP probe was sent to its LAN address (it goes to the default
        /// gateway only: another UPnP gateway on the LAN was not asked).
        public var portControlAsked: Bool

        /// A gateway found over UPnP IGD, NAT-PMP/PCP or both (at least one); `portControlAsked`
        /// whether the probe went to it (true when `portControl` is given).
        public init(upnp: Gateway? = nil, portControl: PortControlFinding? = nil, portControlAsked: Bool = false) {
            precondition(upnp != nil || portControl != nil, "a found gateway answered over some protocol")
            self.upnp = upnp
            self.portControl = portControl
            self.portControlAsked = portControlAsked || portControl != nil
        }

        /// What each of the three protocols said, UPnP IGD, PCP, NAT-PMP in that order.
        public var reports: [ProtocolReport] {
            var upnpReport = ProtocolReport(protocol: .upnp, status: upnp == nil ? .noAnswer : .answered)
            upnpReport.externalAddress = upnp?.externalAddress
            var pcp = ProtocolReport(protocol: .pcp, status: portControlAsked ? .noAnswer : .notAsked)
            var natPMP = ProtocolReport(protocol: .natPMP, status: portControlAsked ? .noAnswer : .notAsked)
            if let finding = portControl {
                if let answer = finding.pcp {
                    pcp.status = .answered
                    pcp.result = answer.result.name ?? "\(answer.result.code)"
                    pcp.epoch = answer.epoch
                    pcp.version = answer.version
                } else if finding.pcpUnsupportedVersion {
                    pcp.status = .unsupported
                }
                if let answer = finding.natPMP {
                    natPMP.status = .answered
                    natPMP.result = answer.result.name ?? "\(answer.result.code)"
                    natPMP.epoch = answer.epoch
                    natPMP.externalAddress = answer.externalAddress.map { ExternalAddress(reported: $0.description) }
                } else if finding.pcpUnsupportedVersion {
                    // Its refusal of PCP is a NAT-PMP answer; the external-address request went unanswered.
                    natPMP.status = .answered
                }
            }
            return [upnpReport, pcp, natPMP]
        }

        /// Its LAN address: the UPnP control URL's host, else the NAT-PMP/PCP server's.
        public var lanAddress: IPv4Address {
            upnp?.service.controlURL.host ?? portControl!.server
        }

        /// What it is known by, as the registry records it: its UDN over UPnP, else `pcp:`, its
        /// LAN address and, when known, "/" and its hardware address (a NAT-PMP or PCP server has
        /// no UDN).
        public var identity: String {
            upnp?.udn ?? ObservedPortControl(server: lanAddress, speaksPCP: false, speaksNATPMP: false, hardwareAddress: hardwareAddress).identity
        }

        /// Its name: the UPnP friendly name, else "PCP gateway 192.168.1.1" ("NAT-PMP gateway …"
        /// when it speaks only that).
        public var friendlyName: String {
            if let upnp { return upnp.friendlyName }
            return "\(portControl?.speaksPCP == true ? "PCP" : "NAT-PMP") gateway \(lanAddress)"
        }

        /// Its hardware address from the neighbour table, when known.
        public var hardwareAddress: String? { portControl?.hardwareAddress }

        /// The protocols that answered, in order of preference.
        public var protocols: [GatewayProtocol] {
            var protocols: [GatewayProtocol] = []
            if upnp != nil { protocols.append(.upnp) }
            if portControl?.speaksPCP == true { protocols.append(.pcp) }
            if portControl?.speaksNATPMP == true { protocols.append(.natPMP) }
            return protocols
        }

        /// The protocol portkeeper uses with it and why (``ProtocolChoice/preferredProtocol(upnp:pcp:natPMP:declared:)``).
        public func choice(declared: GatewayProtocol? = nil) -> ProtocolChoice? {
            ProtocolChoice.preferredProtocol(upnp: upnp != nil, pcp: portControl?.speaksPCP == true, natPMP: portControl?.speaksNATPMP == true, declared: declared)
        }
    }

    /// Discovery over all three protocols at once: SSDP (or the gateway at `url`) and the
    /// NAT-PMP/PCP probe, within the same time as SSDP alone.
    ///
    /// The probe runs beside the UPnP side. When the UPnP side is done, the probe gets at least
    /// `DiscoveryOptions.portControlMinimumWait` from its start, then is cancelled; when the
    /// probe answers first and no UPnP gateway has, the SSDP search ends MX seconds and
    /// `DiscoveryOptions.portControlSettle` later instead of at the end of its window. With
    /// `DiscoveryOptions.waitFullWindow` both run until they are done or the window ends. Nothing
    /// outlives `DiscoveryOptions.window` or the client's deadline.
    /// - Throws: ``PortKeeperError`` `notFound` when nothing answered over any protocol, and what
    ///   ``gateways(at:probe:)`` throws for the UPnP side otherwise.
    public func discover(at url: GatewayURL?, probe: GatewayClient.ProbePolicy = .always) async throws -> Discovery {
        let server = discovery.portControlServer(describing: url)
        let start = ContinuousClock.now
        let cutoff = SearchCutoff()
        var end = Deadline("discover", in: discovery.window, from: start)
        if let overall = client.deadline, overall.instant < end.instant { end = overall }
        let options = discovery
        let probeDeadline = end

        enum Part: Sendable {
            case upnp(Result<GatewayClient.DiscoveryResult, any Error>)
            case portControl(PortControlFinding?)
            case waited
        }
        var upnpResult: Result<GatewayClient.DiscoveryResult, any Error>?
        var finding: PortControlFinding?
        await withTaskGroup(of: Part.self) { group in
            group.addTask {
                do {
                    if let url {
                        return .upnp(.success(.init(gateways: [try await describe(url, policy: probe)], failures: [])))
                    }
                    return .upnp(.success(try await search(probe: probe, cutoff: cutoff)))
                } catch {
                    return .upnp(.failure(error))
                }
            }
            var probing = false
            if let server {
                probing = true
                group.addTask {
                    let portControl = PortControlProbe(client: PortControlClient(serverPort: server.port))
                    return .portControl(await portControl.probe(server.address, deadline: probeDeadline) {
                        cutoff.end(after: .seconds(options.mx) + options.portControlSettle)
                    })
                }
            }
            for await part in group {
                switch part {
                case .upnp(let result):
                    upnpResult = result
                    // With waitFullWindow (--timeout) the probe, like the search, has the whole window.
                    if probing, !options.waitFullWindow {
                        group.addTask {
                            try? await Task.sleep(until: start + options.portControlMinimumWait, clock: .continuous)
                            return .waited
                        }
                    }
                case .portControl(let found):
                    finding = found
                    probing = false
                case .waited:
                    // The probe had its time: what it has not heard by now is not coming.
                    if probing { group.cancelAll() }
                }
            }
        }
        let result = try upnpResult!.get()
        let found = Discovery(gateways: result.gateways, portControl: finding.map { [$0] } ?? [], portControlServer: server, failures: result.failures)
        guard !found.gateways.isEmpty || !found.portControl.isEmpty else {
            throw notFound(result, portControlServer: server)
        }
        return found
    }
}

/// What one protocol said to discovery, for one gateway.
public struct ProtocolReport: Sendable, Equatable {
    /// How a protocol fared.
    public enum Status: String, Sendable, Equatable {
        /// It answered.
        case answered
        /// It was asked and did not answer.
        case noAnswer = "no-answer"
        /// It was not asked (the NAT-PMP/PCP probe goes to the default gateway only, and not at
        /// all when switched off).
        case notAsked = "not-asked"
        /// PCP only: the server answered as a NAT-PMP server that does not speak PCP.
        case unsupported
    }

    /// The protocol.
    public var `protocol`: GatewayProtocol
    /// How it fared.
    public var status: Status
    /// The external address it reported: UPnP's GetExternalIPAddress, NAT-PMP's external
    /// address (PCP tells none without a mapping).
    public var externalAddress: ExternalAddress?
    /// The server's epoch, in seconds (PCP, NAT-PMP).
    public var epoch: UInt32?
    /// The PCP version it answered with.
    public var version: UInt8?
    /// Its result by the RFC's name ("SUCCESS", "Success"), else its number (PCP, NAT-PMP).
    public var result: String?

    /// A report of `status` for `protocol`, with no details yet.
    public init(protocol: GatewayProtocol, status: Status) {
        self.protocol = `protocol`
        self.status = status
    }
}
