import Logging
import NIOCore
import NIOPosix
import IGDProtocol

/// Talks UPnP IGD to gateways: finds them, reads their descriptions, runs typed actions.
public struct GatewayClient: Sendable {
    public let http: HTTPTransport
    public let ssdp: SSDPDiscovery
    public var limits: HTTPLimits
    /// The most entries a listing reads before stopping.
    public var maxEntries = 4096
    let logger: Logger

    public init(
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        limits: HTTPLimits = .default,
        logger: Logger = Logger(label: "portkeeper.igd")
    ) {
        self.http = HTTPTransport(group: group)
        self.ssdp = SSDPDiscovery(group: group, logger: logger)
        self.limits = limits
        self.logger = logger
    }

    /// What a search found: gateways described, and devices that answered but could not be used.
    public struct DiscoveryResult: Sendable {
        public var gateways: [Gateway]
        public var failures: [(location: GatewayURL, reason: String)]
    }

    /// Searches with SSDP, reading and probing each gateway as soon as it answers.
    public func discover(_ options: DiscoveryOptions = DiscoveryOptions(), probe policy: ProbePolicy = .always) async throws -> DiscoveryResult {
        let (found, continuation) = AsyncStream<DiscoveredDevice>.makeStream()
        async let searched = {
            defer { continuation.finish() }
            return try await ssdp.search(options) { continuation.yield($0) }
        }()
        let outcomes = await withTaskGroup(of: (Int, DiscoveredDevice, Result<Gateway, any Error>).self) { group in
            var index = 0
            for await device in found {
                group.addTask { [index] in
                    do {
                        var gateway = try await describe(device.location, probe: policy)
                        gateway.bootID = device.bootID
                        return (index, device, .success(gateway))
                    } catch {
                        return (index, device, .failure(error))
                    }
                }
                index += 1
            }
            var outcomes: [(Int, DiscoveredDevice, Result<Gateway, any Error>)] = []
            for await outcome in group { outcomes.append(outcome) }
            return outcomes.sorted { $0.0 < $1.0 }
        }
        _ = try await searched
        var result = DiscoveryResult(gateways: [], failures: [])
        for (_, device, outcome) in outcomes {
            switch outcome {
            case .success(let gateway):
                if !result.gateways.contains(where: { $0.udn == gateway.udn }) { result.gateways.append(gateway) }
            case .failure(let error):
                logger.debug("device at \(device.location) not usable: \(error)")
                result.failures.append((device.location, "\(error)"))
            }
        }
        return result
    }

    /// When ``describe(_:probe:)`` asks services for their status and external address.
    public enum ProbePolicy: Sendable {
        /// Always: the answer is shown to the user.
        case always
        /// Only when there are several services to choose from (saves two requests).
        case whenChoosing
    }

    /// Reads the description at `descriptionURL`, probes its WAN connection services and
    /// chooses one.
    /// - Throws: ``TransportError``, ``ProtocolViolation`` (including "no WAN connection service").
    public func describe(_ descriptionURL: GatewayURL, probe policy: ProbePolicy = .always) async throws -> Gateway {
        let response = try await http.get(descriptionURL, limits: limits)
        guard response.status == 200 else {
            throw ProtocolViolation("device description at \(descriptionURL) answered HTTP \(response.status)")
        }
        let description = try DeviceDescription.parse(response.body)
        let (services, notes) = description.connectionServices(descriptionURL: descriptionURL)
        for note in notes { logger.debug("\(descriptionURL): \(note)") }
        guard !services.isEmpty else {
            throw ProtocolViolation(Self.noServiceMessage(descriptionURL, offered: description.serviceTypes, notes: notes))
        }
        let probes = policy == .always || services.count > 1
            ? await probe(services)
            : services.map { ServiceProbe(service: $0, status: nil, externalAddress: nil) }
        guard let choice = ServiceSelection.choose(probes) else {
            throw ProtocolViolation("\(descriptionURL): no WAN connection service to choose")
        }
        let root = description.root
        return Gateway(
            udn: description.identity(descriptionURL: descriptionURL), friendlyName: root.friendlyName, manufacturer: root.manufacturer,
            modelName: root.modelName, modelNumber: root.modelNumber, deviceType: root.deviceType,
            descriptionURL: descriptionURL, service: choice.probe.service, choiceReason: choice.reason,
            services: services, status: choice.probe.status, externalAddress: choice.probe.externalAddress,
            notes: notes + (choice.probe.failure.map { ["probing the chosen service failed: \($0)"] } ?? []),
            bootID: nil
        )
    }

    /// Why a description offers nothing to map ports on, naming the service types it does
    /// offer (at most 12, each cut to 100 characters: they come from the gateway).
    static func noServiceMessage(_ descriptionURL: GatewayURL, offered: [String], notes: [String]) -> String {
        var message = "\(descriptionURL) offers no usable WANIPConnection or WANPPPConnection service"
        let shown = offered.prefix(12).map { String($0.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.prefix(100).map(Character.init)) }
        message += offered.isEmpty
            ? "; the description lists no services at all"
            : "; the description offers: " + shown.joined(separator: ", ") + (offered.count > 12 ? " and \(offered.count - 12) more" : "")
        if !notes.isEmpty { message += " (\(notes.joined(separator: "; ")))" }
        return message
    }

    /// Asks every service for its status and external address, concurrently.
    public func probe(_ services: [ConnectionService]) async -> [ServiceProbe] {
        await withTaskGroup(of: (Int, ServiceProbe).self) { group in
            for (index, service) in services.enumerated() {
                group.addTask {
                    async let status = perform(Actions.GetStatusInfo(), on: service)
                    async let address = perform(Actions.GetExternalIPAddress(), on: service)
                    var failures: [String] = []
                    var statusValue: Actions.StatusInfo?
                    var addressValue: ExternalAddress?
                    do { statusValue = try await status } catch { failures.append("GetStatusInfo: \(error)") }
                    do { addressValue = try await address } catch { failures.append("GetExternalIPAddress: \(error)") }
                    let probe = ServiceProbe(
                        service: service, status: statusValue, externalAddress: addressValue,
                        failure: failures.isEmpty ? nil : failures.joined(separator: "; ")
                    )
                    return (index, probe)
                }
            }
            var probes: [(Int, ServiceProbe)] = []
            for await probe in group { probes.append(probe) }
            return probes.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// Runs one control action.
    /// - Throws: `UPnPError` for device faults, ``TransportError``, `ProtocolViolation`,
    ///   `UnexpectedHTTPStatus`, ``ActionUnavailable``.
    public func perform<A: IGDAction>(_ action: A, on service: ConnectionService) async throws -> A.Response {
        if A.requiresVersion2 && !service.type.isVersion2 {
            throw ActionUnavailable(action: A.name, service: service.type)
        }
        let request = action.request(serviceType: service.type.rawValue)
        let response = try await http.post(
            service.controlURL,
            headers: [("Content-Type", "text/xml; charset=\"utf-8\""), ("SOAPAction", request.soapActionHeader)],
            body: try request.envelope(),
            limits: limits
        )
        let decoded = try SOAPResponse.decode(action: A.name, status: response.status, body: response.body)
        return try action.decode(decoded)
    }

    /// The gateway's whole mapping table: GetListOfPortMappings where the service is v2 and
    /// it answers, else the GetGenericPortMappingEntry walk.
    public func portMappings(on service: ConnectionService) async throws -> PortMappingTable {
        var note: String?
        if service.type.isVersion2 {
            do {
                return PortMappingTable(entries: try await listOfPortMappings(on: service), method: .listOfPortMappings, note: nil)
            } catch let error as UPnPError {
                note = "GetListOfPortMappings failed (\(error)); walked the entries instead"
            } catch let error as ProtocolViolation {
                note = "GetListOfPortMappings answered badly (\(error)); walked the entries instead"
            }
            if let note { logger.debug("\(service.controlURL): \(note)") }
        }
        var table = try await genericEntryWalk(on: service)
        if let note { table.note = [note, table.note].compactMap { $0 }.joined(separator: "; ") }
        return table
    }

    /// IGDv2 listing, one request per protocol unless a page comes back full.
    public func listOfPortMappings(on service: ConnectionService) async throws -> [PortMappingEntry] {
        let pageSize = 1000
        var entries: [PortMappingEntry] = []
        for proto in TransportProtocol.allCases {
            var start: UInt16 = 1
            while true {
                let page: [PortMappingEntry]
                do {
                    page = try await perform(Actions.GetListOfPortMappings(startPort: start, protocol: proto, numberOfPorts: pageSize), on: service)
                } catch let error as UPnPError where error.code == UPnPError.portMappingNotFound {
                    page = []
                }
                entries += page.filter { $0.protocol == proto && $0.externalPort >= start }
                guard entries.count <= maxEntries else {
                    throw ProtocolViolation("gateway lists more than \(maxEntries) mappings")
                }
                guard page.count >= pageSize, let last = page.map(\.externalPort).max(), last >= start, last < 65535 else { break }
                start = last + 1
            }
        }
        return entries
    }

    /// Reads entries by index until the gateway says the list ended: 713 as the spec says,
    /// or 714, 402, or an HTTP 500 without a fault, as real routers do.
    public func genericEntryWalk(on service: ConnectionService) async throws -> PortMappingTable {
        var entries: [PortMappingEntry] = []
        for index in 0..<maxEntries {
            do {
                entries.append(try await perform(Actions.GetGenericPortMappingEntry(index: index), on: service))
            } catch let error as UPnPError where [UPnPError.specifiedArrayIndexInvalid, UPnPError.noSuchEntryInArray, UPnPError.invalidArgs].contains(error.code) {
                return PortMappingTable(entries: entries, method: .genericEntryWalk, note: "list ended with \(error)")
            } catch let error as UnexpectedHTTPStatus where error.status == 500 {
                return PortMappingTable(entries: entries, method: .genericEntryWalk, note: "list ended with HTTP 500 and no fault")
            }
        }
        throw ProtocolViolation("gateway lists more than \(maxEntries) mappings")
    }
}
