import Foundation

/// Everything a simulated gateway remembers, and the UPnP actions that read and change it.
struct GatewayState: Sendable {
    typealias Mapping = SimulatedGateway.Mapping

    var profile: SimulatedGateway.Profile
    /// "http://127.0.0.1:PORT", set once the server is listening.
    var baseURL = ""
    var connections: [String: SimulatedGateway.ConnectionState]
    var mappings: [Mapping]
    var actionCounts: [String: Int] = [:]
    /// Replies to give instead of performing the action, per action, first one next.
    var injectedReplies: [String: [FakeHTTPReply]] = [:]
    /// Replies that replace whatever a target or path would answer.
    var overrides: [String: FakeHTTPReply] = [:]

    init(profile: SimulatedGateway.Profile) {
        self.profile = profile
        connections = profile.controlPaths
        mappings = profile.initialMappings
    }

    /// What an action comes to.
    enum Outcome {
        /// A successful response with these output arguments, in order.
        case success([(String, String)])
        /// A UPnP fault with this code.
        case fault(Int)
        /// Some other HTTP reply.
        case reply(FakeHTTPReply)
    }

    /// Whether the service is the IGDv2 WANIPConnection:2 (AddAnyPortMapping, DeletePortMappingRange).
    private var isVersion2: Bool { profile.serviceType == "urn:schemas-upnp-org:service:WANIPConnection:2" }

    /// Performs `call` on the connection at `path`.
    mutating func perform(_ call: FakeSOAPRequest, path: String) -> Outcome {
        let connection = connections[path] ?? .disconnected
        switch call.action {
        case "GetExternalIPAddress":
            return .success([("NewExternalIPAddress", connection.externalIP)])
        case "GetStatusInfo":
            return .success([
                ("NewConnectionStatus", connection.status),
                ("NewLastConnectionError", "ERROR_NONE"),
                ("NewUptime", String(connection.uptime)),
            ])
        case "GetConnectionTypeInfo":
            return .success([
                ("NewConnectionType", connection.connectionType),
                ("NewPossibleConnectionTypes", connection.connectionType),
            ])
        case "GetGenericPortMappingEntry":
            return genericEntry(call)
        case "GetSpecificPortMappingEntry":
            return specificEntry(call)
        case "AddPortMapping":
            return addPortMapping(call)
        case "AddAnyPortMapping" where isVersion2:
            return addAnyPortMapping(call)
        case "DeletePortMapping":
            return deletePortMapping(call)
        case "DeletePortMappingRange" where isVersion2:
            return deletePortMappingRange(call)
        case "GetListOfPortMappings" where profile.supportsListOfPortMappings:
            return listOfPortMappings(call)
        default:
            return .fault(401)
        }
    }

    // MARK: Reading the table

    private func genericEntry(_ call: FakeSOAPRequest) -> Outcome {
        guard let index = call.argument("NewPortMappingIndex").flatMap(Arguments.unsigned) else { return .fault(402) }
        guard index < mappings.count else {
            switch profile.listEnd {
            case .fault713: return .fault(713)
            case .fault714: return .fault(714)
            case .fault402: return .fault(402)
            case .http500Empty:
                return .reply(.response(status: 500, headers: [("Content-Type", FakeSOAP.contentType)], body: []))
            case .http500Garbage:
                return .reply(.text(500, "500 Internal Server Error: index out of range (GetGenericPortMappingEntry)\n", contentType: "text/plain"))
            }
        }
        let mapping = mappings[index]
        return .success([
            ("NewRemoteHost", mapping.remoteHost),
            ("NewExternalPort", String(mapping.externalPort)),
            ("NewProtocol", mapping.protocol),
            ("NewInternalPort", String(mapping.internalPort)),
            ("NewInternalClient", mapping.internalClient),
            ("NewEnabled", mapping.enabled ? "1" : "0"),
            ("NewPortMappingDescription", mapping.description),
            ("NewLeaseDuration", String(mapping.leaseDuration)),
        ])
    }

    private func specificEntry(_ call: FakeSOAPRequest) -> Outcome {
        guard let key = Arguments.key(call) else { return .fault(402) }
        guard let mapping = mappings.first(where: { $0.matches(remoteHost: key.remoteHost, externalPort: key.port, protocol: key.protocol) }) else {
            return .fault(714)
        }
        return .success([
            ("NewInternalPort", String(mapping.internalPort)),
            ("NewInternalClient", mapping.internalClient),
            ("NewEnabled", mapping.enabled ? "1" : "0"),
            ("NewPortMappingDescription", mapping.description),
            ("NewLeaseDuration", String(mapping.leaseDuration)),
        ])
    }

    private func listOfPortMappings(_ call: FakeSOAPRequest) -> Outcome {
        guard let start = call.argument("NewStartPort").flatMap(Arguments.port),
              let end = call.argument("NewEndPort").flatMap(Arguments.port),
              let proto = call.argument("NewProtocol").flatMap(Arguments.protocolName),
              call.argument("NewManage").flatMap(Arguments.boolean) != nil,
              let count = call.argument("NewNumberOfPorts").flatMap(Arguments.unsigned)
        else { return .fault(402) }
        guard start <= end else { return .fault(733) }
        var found = mappings
            .filter { $0.protocol.uppercased() == proto && (start...end).contains($0.externalPort) }
            .sorted { $0.externalPort < $1.externalPort }
        if count > 0 { found = Array(found.prefix(count)) }
        guard !found.isEmpty else { return .fault(730) }
        return .success([("NewPortListing", Self.portListing(found))])
    }

    /// The PortMappingList document GetListOfPortMappings returns (as text, escaped again by the
    /// envelope like miniupnpd does).
    static func portListing(_ mappings: [Mapping]) -> String {
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
            + "<p:PortMappingList xmlns:p=\"urn:schemas-upnp-org:gw:WANIPConnection\" "
            + "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
            + "xsi:schemaLocation=\"urn:schemas-upnp-org:gw:WANIPConnection "
            + "http://www.upnp.org/schemas/gw/WANIPConnection-v2.xsd\">"
        for mapping in mappings {
            let fields = [
                ("NewRemoteHost", mapping.remoteHost),
                ("NewExternalPort", String(mapping.externalPort)),
                ("NewProtocol", mapping.protocol),
                ("NewInternalPort", String(mapping.internalPort)),
                ("NewInternalClient", mapping.internalClient),
                ("NewEnabled", mapping.enabled ? "1" : "0"),
                ("NewDescription", mapping.description),
                ("NewLeaseTime", String(mapping.leaseDuration)),
            ]
            xml += "<p:PortMappingEntry>"
            for (name, value) in fields {
                xml += "<p:\(name)>\(XMLEscaping.escape(value))</p:\(name)>"
            }
            xml += "</p:PortMappingEntry>"
        }
        return xml + "</p:PortMappingList>"
    }

    // MARK: Changing the table

    private mutating func addPortMapping(_ call: FakeSOAPRequest) -> Outcome {
        let request: Mapping
        switch Arguments.newMapping(call) {
        case .failure(let fault): return .fault(fault.code)
        case .success(let mapping): request = mapping
        }
        if request.externalPort == 0 { return .fault(716) }
        if profile.permanentLeasesOnly && request.leaseDuration != 0 { return .fault(725) }
        if let index = indexOf(request) {
            guard mappings[index].internalClient == request.internalClient else { return .fault(718) }
            mappings[index] = request
            return .success([])
        }
        guard mappings.count < profile.maxEntries else { return .fault(728) }
        mappings.append(request)
        return .success([])
    }

    private mutating func addAnyPortMapping(_ call: FakeSOAPRequest) -> Outcome {
        var request: Mapping
        switch Arguments.newMapping(call) {
        case .failure(let fault): return .fault(fault.code)
        case .success(let mapping): request = mapping
        }
        if profile.permanentLeasesOnly && request.leaseDuration != 0 { return .fault(725) }
        if let index = indexOf(request), mappings[index].internalClient == request.internalClient {
            mappings[index] = request
            return .success([("NewReservedPort", String(request.externalPort))])
        }
        guard mappings.count < profile.maxEntries else { return .fault(728) }
        let wanted = Int(max(request.externalPort, 1))
        let candidates = Array(wanted...65535) + Array(1..<wanted)
        guard let free = candidates.first(where: { port in
            !mappings.contains { $0.matches(remoteHost: request.remoteHost, externalPort: UInt16(port), protocol: request.protocol) }
        }) else { return .fault(728) }
        request.externalPort = UInt16(free)
        mappings.append(request)
        return .success([("NewReservedPort", String(free))])
    }

    private mutating func deletePortMapping(_ call: FakeSOAPRequest) -> Outcome {
        guard let key = Arguments.key(call) else { return .fault(402) }
        guard let index = mappings.firstIndex(where: { $0.matches(remoteHost: key.remoteHost, externalPort: key.port, protocol: key.protocol) }) else {
            return .fault(714)
        }
        mappings.remove(at: index)
        return .success([])
    }

    private mutating func deletePortMappingRange(_ call: FakeSOAPRequest) -> Outcome {
        guard let start = call.argument("NewStartPort").flatMap(Arguments.port),
              let end = call.argument("NewEndPort").flatMap(Arguments.port),
              let proto = call.argument("NewProtocol").flatMap(Arguments.protocolName),
              call.argument("NewManage").flatMap(Arguments.boolean) != nil
        else { return .fault(402) }
        guard start <= end else { return .fault(733) }
        let before = mappings.count
        mappings.removeAll { $0.protocol.uppercased() == proto && (start...end).contains($0.externalPort) }
        return mappings.count == before ? .fault(730) : .success([])
    }

    /// The index of the mapping with the same remote host, external port and protocol.
    private func indexOf(_ mapping: Mapping) -> Int? {
        mappings.firstIndex { $0.matches(remoteHost: mapping.remoteHost, externalPort: mapping.externalPort, protocol: mapping.protocol) }
    }
}

/// Reading SOAP argument values the way a strict gateway does.
enum Arguments {
    /// A UPnP fault code, as an error.
    struct Fault: Error {
        var code: Int
    }

    /// A non-negative decimal integer.
    static func unsigned(_ text: String) -> Int? {
        let text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty, text.count <= 10, text.allSatisfy(\.isASCIIDigit) else { return nil }
        return Int(text)
    }

    /// A port number 0-65535.
    static func port(_ text: String) -> UInt16? {
        unsigned(text).flatMap { UInt16(exactly: $0) }
    }

    /// A 32-bit unsigned number.
    static func uint32(_ text: String) -> UInt32? {
        unsigned(text).flatMap { UInt32(exactly: $0) }
    }

    /// "TCP" or "UDP" (any case), uppercased.
    static func protocolName(_ text: String) -> String? {
        let name = text.trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
        return name == "TCP" || name == "UDP" ? name : nil
    }

    /// A UPnP boolean: 1/0, true/false, yes/no.
    static func boolean(_ text: String) -> Bool? {
        switch text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() {
        case "1", "true", "yes": true
        case "0", "false", "no": false
        default: nil
        }
    }

    /// The key arguments NewRemoteHost, NewExternalPort and NewProtocol.
    static func key(_ call: FakeSOAPRequest) -> (remoteHost: String, port: UInt16, protocol: String)? {
        guard let remoteHost = call.argument("NewRemoteHost"),
              let port = call.argument("NewExternalPort").flatMap(port),
              let proto = call.argument("NewProtocol").flatMap(protocolName)
        else { return nil }
        return (remoteHost.trimmingCharacters(in: .whitespacesAndNewlines), port, proto)
    }

    /// The eight arguments of AddPortMapping / AddAnyPortMapping as a mapping; 402 when one is
    /// missing or malformed.
    static func newMapping(_ call: FakeSOAPRequest) -> Result<SimulatedGateway.Mapping, Fault> {
        guard let key = key(call),
              let internalPort = call.argument("NewInternalPort").flatMap(port), internalPort != 0,
              let internalClient = call.argument("NewInternalClient")?.trimmingCharacters(in: .whitespacesAndNewlines),
              !internalClient.isEmpty,
              let enabled = call.argument("NewEnabled").flatMap(boolean),
              let description = call.argument("NewPortMappingDescription"),
              let lease = call.argument("NewLeaseDuration").flatMap(uint32)
        else { return .failure(Fault(code: 402)) }
        return .success(SimulatedGateway.Mapping(
            remoteHost: key.remoteHost,
            externalPort: key.port,
            protocol: key.protocol,
            internalPort: internalPort,
            internalClient: internalClient,
            enabled: enabled,
            description: description,
            leaseDuration: lease
        ))
    }
}
