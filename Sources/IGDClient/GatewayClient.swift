import Logging
import NIOCore
import NIOPosix
import IGDProtocol

/// Talks UPnP IGD to gateways: finds them, reads their descriptions, runs typed actions.
public struct GatewayClient: Sendable {
    /// The HTTP client for descriptions and SOAP actions.
    public let http: HTTPTransport
    /// The SSDP search.
    public let ssdp: SSDPDiscovery
    /// Each request's timeouts and body cap.
    public var limits: HTTPLimits
    /// The most entries a listing reads before stopping.
    public var maxEntries = 4096
    /// The longest a whole listing may take, however many entries the gateway has.
    public var listingTime: Duration = .seconds(60)
    /// When the whole command must be done: every request is cut short to fit, and one that
    /// would start after it fails with ``DeadlineExceeded``. Nil: each request has only its
    /// own limits.
    public var deadline: Deadline?
    let logger: Logger

    /// A client on `group`'s event loops, each request bounded by `limits`, logging to `logger` (requests at trace level).
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
        /// The gateways found, described and probed.
        public var gateways: [Gateway]
        /// Devices that answered but could not be used, with why.
        public var failures: [(location: GatewayURL, reason: String)]

        /// A result with these gateways and failures.
        public init(gateways: [Gateway], failures: [(location: GatewayURL, reason: String)] = []) {
            self.gateways = gateways
            self.failures = failures
        }
    }

    /// Searches with SSDP, reading and probing each gateway as soon as it answers; `cutoff` may
    /// end the search sooner than its window.
    public func discover(_ options: DiscoveryOptions = DiscoveryOptions(), probe policy: ProbePolicy = .always, cutoff: SearchCutoff? = nil) async throws -> DiscoveryResult {
        let (found, continuation) = AsyncStream<DiscoveredDevice>.makeStream()
        async let searched = {
            defer { continuation.finish() }
            return try await ssdp.search(options, cutoff: cutoff) { continuation.yield($0) }
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
    /// - Throws: ``TransportError``, `ProtocolViolation` (including "no WAN connection service").
    public func describe(_ descriptionURL: GatewayURL, probe policy: ProbePolicy = .always) async throws -> Gateway {
        logger.trace("→ GET \(descriptionURL)")
        let response = try await exchange("the device description", within: deadline, naming: false) {
            try await http.get(descriptionURL, limits: $0)
        }
        logger.trace("← \(descriptionURL): HTTP \(response.status), \(response.body.count) bytes")
        if Self.looksLikeHTML(response) {
            throw ProtocolViolation("\(descriptionURL) returned an HTML page, not a UPnP device description (a login page?)")
        }
        guard response.status == 200 else {
            throw DescriptionNotServed(url: descriptionURL.description, status: response.status)
        }
        let description: DeviceDescription
        do {
            description = try DeviceDescription.parse(response.body)
        } catch let violation as ProtocolViolation {
            throw ProtocolViolation("the device description at \(descriptionURL) is not usable: \(violation)")
        }
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
        try action.decode(try await call(action, on: service, within: deadline))
    }

    /// Sends one action and reads its answer's envelope, within `deadline` (and the limits).
    /// - Throws: as ``perform(_:on:)``, and ``DeadlineExceeded`` once `deadline` ran out.
    public func call<A: IGDAction>(_ action: A, on service: ConnectionService, within deadline: Deadline?) async throws -> SOAPResponse {
        if A.requiresVersion2 && !service.type.isVersion2 {
            throw ActionUnavailable(action: A.name, service: service.type)
        }
        let request = action.request(serviceType: service.type.rawValue)
        let envelope = try request.envelope()
        logger.trace("→ POST \(service.controlURL) \(A.name)\(Self.arguments(request))")
        let response = try await exchange(A.name, within: deadline) { limits in
            try await http.post(
                service.controlURL,
                headers: [("Content-Type", "text/xml; charset=\"utf-8\""), ("SOAPAction", request.soapActionHeader)],
                body: envelope,
                limits: limits
            )
        }
        logger.trace("← \(A.name): HTTP \(response.status), \(response.body.count) bytes")
        return try SOAPResponse.decode(action: A.name, status: response.status, body: response.body)
    }

    /// " NewExternalPort=8080 NewProtocol=TCP …" for the verbose log.
    static func arguments(_ request: SOAPRequest) -> String {
        request.arguments.map { " \($0.name)=\($0.value.isEmpty ? "''" : $0.value)" }.joined()
    }

    /// One HTTP exchange within the limits cut to `deadline`: a timeout that is the deadline's
    /// becomes ``DeadlineExceeded``; any other transport failure names `action`.
    /// - Parameter naming: whether a transport error names `action` (a GET of the description
    ///   is told well enough by its URL).
    func exchange(_ action: String, within deadline: Deadline?, naming: Bool = true, _ body: (HTTPLimits) async throws -> HTTPResponse) async throws -> HTTPResponse {
        if let deadline, deadline.hasPassed { throw deadline.exceeded(during: action) }
        do {
            return try await body(limits.fitting(deadline))
        } catch var error as TransportError {
            if let deadline, deadline.hasPassed, [.timeout, .connectTimeout].contains(error.kind) {
                throw deadline.exceeded(during: action)
            }
            if naming { error.action = action }
            throw error
        }
    }

    /// An HTML page where XML was expected: a router's login or error page.
    static func looksLikeHTML(_ response: HTTPResponse) -> Bool {
        if let type = response.header("Content-Type")?.lowercased(), type.contains("text/html") { return true }
        let start = response.body.prefix(512).drop { [0x20, 0x09, 0x0a, 0x0d, 0xef, 0xbb, 0xbf].contains($0) }
        let head = String(decoding: start.prefix(64), as: UTF8.self).lowercased()
        return head.hasPrefix("<!doctype html") || head.hasPrefix("<html")
    }

    /// The earlier of the command's deadline and a fresh one of `length` for `what`.
    func earliest(_ what: String, _ length: Duration) -> Deadline {
        let own = Deadline(what, in: length)
        guard let deadline, deadline.instant < own.instant else { return own }
        return deadline
    }

    /// The gateway's whole mapping table: GetListOfPortMappings where the service is v2 and
    /// it answers, else the GetGenericPortMappingEntry walk.
    ///
    /// The whole listing must be done within ``listingTime`` (and the command's deadline): a
    /// gateway that answers slowly, or forever, ends it with ``DeadlineExceeded``.
    public func portMappings(on service: ConnectionService) async throws -> PortMappingTable {
        let within = earliest("listing the gateway's mappings", listingTime)
        var note: String?
        if service.type.isVersion2 {
            do {
                let (entries, invalid) = try await checkedListOfPortMappings(on: service, within: within)
                return PortMappingTable(entries: entries, method: .listOfPortMappings, note: nil, invalid: invalid)
            } catch let error as UPnPError {
                note = "GetListOfPortMappings failed (\(error)); walked the entries instead"
            } catch let error as ProtocolViolation {
                note = "GetListOfPortMappings answered badly (\(error)); walked the entries instead"
            }
            if let note { logger.debug("\(service.controlURL): \(note)") }
        }
        var table = try await genericEntryWalk(on: service, within: within)
        if let note { table.note = [note, table.note].compactMap { $0 }.joined(separator: "; ") }
        return table
    }

    /// IGDv2 listing, one request per protocol unless a page comes back full.
    /// Entries that make no sense are left out (``portMappings(on:)`` keeps them apart).
    public func listOfPortMappings(on service: ConnectionService, within deadline: Deadline? = nil) async throws -> [PortMappingEntry] {
        try await checkedListOfPortMappings(on: service, within: deadline).entries
    }

    func checkedListOfPortMappings(on service: ConnectionService, within deadline: Deadline?) async throws -> (entries: [PortMappingEntry], invalid: [InvalidPortMappingEntry]) {
        let deadline = deadline ?? earliest("listing the gateway's mappings", listingTime)
        let pageSize = 1000
        var entries: [PortMappingEntry] = []
        var invalid: [InvalidPortMappingEntry] = []
        for proto in TransportProtocol.allCases {
            var start: UInt16 = 1
            while true {
                let page: [PortMappingEntry]
                var answered = 0
                do {
                    let action = Actions.GetListOfPortMappings(startPort: start, protocol: proto, numberOfPorts: pageSize)
                    let checked = try action.decodeChecked(try await call(action, on: service, within: deadline))
                    page = checked.entries
                    invalid += checked.invalid
                    answered = checked.entries.count + checked.invalid.count
                } catch let error as UPnPError where error.code == UPnPError.portMappingNotFound {
                    page = []
                }
                entries += page.filter { $0.protocol == proto && $0.externalPort >= start }
                guard entries.count + invalid.count <= maxEntries else {
                    throw ProtocolViolation("gateway lists more than \(maxEntries) mappings")
                }
                guard answered >= pageSize, let last = page.map(\.externalPort).max(), last >= start, last < 65535 else { break }
                start = last + 1
            }
        }
        return (entries, invalid)
    }

    /// Reads entries by index until the gateway says the list ended: 713 as the spec says,
    /// or 714, 402, or an HTTP 500 without a fault, as real routers do.
    ///
    /// An entry that makes no sense is kept apart in ``PortMappingTable/invalid``. A gateway
    /// that answers an index with exactly an answer it gave before (it ignores the index) never
    /// ends its list: that is a `ProtocolViolation`, as is a list longer than ``maxEntries``.
    public func genericEntryWalk(on service: ConnectionService, within deadline: Deadline? = nil) async throws -> PortMappingTable {
        let deadline = deadline ?? earliest("listing the gateway's mappings", listingTime)
        var table = PortMappingTable(entries: [], method: .genericEntryWalk, note: nil)
        var seen: [[String: String]: Int] = [:]
        for index in 0..<maxEntries {
            let action = Actions.GetGenericPortMappingEntry(index: index)
            let response: SOAPResponse
            do {
                response = try await call(action, on: service, within: deadline)
            } catch let error as UPnPError where [UPnPError.specifiedArrayIndexInvalid, UPnPError.noSuchEntryInArray, UPnPError.invalidArgs].contains(error.code) {
                table.note = "list ended with \(error)"
                return table
            } catch let error as UnexpectedHTTPStatus where error.status == 500 {
                table.note = "list ended with HTTP 500 and no fault"
                return table
            }
            if let earlier = seen[response.values] {
                throw ProtocolViolation("the gateway answered GetGenericPortMappingEntry \(index) with exactly its answer to \(earlier) (\(Self.entrySummary(response.values))): its list would never end")
            }
            seen[response.values] = index
            do {
                table.entries.append(try action.decodeChecked(response))
            } catch let invalid as InvalidPortMappingEntry {
                logger.debug("\(service.controlURL): \(invalid)")
                table.invalid.append(invalid)
            }
        }
        throw ProtocolViolation("gateway lists more than \(maxEntries) mappings")
    }

    static func entrySummary(_ values: [String: String]) -> String {
        InvalidPortMappingEntry(action: "", index: nil, fields: values, problems: []).summary
    }
}

/// The description URL answered with an HTTP status other than 200 (404 for a wrong path):
/// nothing there to read, which is not the router breaking the specification.
public struct DescriptionNotServed: Error, Sendable, Equatable, CustomStringConvertible {
    /// The description URL asked for.
    public let url: String
    /// The HTTP status it answered.
    public let status: Int

    /// `url` answered `status`.
    public init(url: String, status: Int) {
        self.url = url
        self.status = status
    }

    public var description: String {
        "\(url) answered HTTP \(status)\(Self.reason(status).map { " (\($0))" } ?? "")"
    }

    static func reason(_ status: Int) -> String? {
        switch status {
        case 301, 302, 303, 307, 308: "a redirect, which portkeeper does not follow"
        case 401, 403: "access refused"
        case 404: "not found"
        case 410: "gone"
        case 500...599: "a server error"
        default: nil
        }
    }
}
