/// A typed control action of WANIPConnection / WANPPPConnection.
///
/// The action builds its request arguments and decodes its response; the transport lives
/// in IGDClient.
public protocol IGDAction: Sendable {
    associatedtype Response: Sendable
    static var name: String { get }
    /// True for actions only WANIPConnection:2 has.
    static var requiresVersion2: Bool { get }
    var arguments: [SOAPRequest.Argument] { get }
    func decode(_ response: SOAPResponse) throws -> Response
}

extension IGDAction {
    public static var requiresVersion2: Bool { false }

    public func request(serviceType: String) -> SOAPRequest {
        SOAPRequest(serviceType: serviceType, action: Self.name, arguments: arguments)
    }
}

public enum Actions {
    public struct GetExternalIPAddress: IGDAction {
        public static let name = "GetExternalIPAddress"
        public init() {}
        public var arguments: [SOAPRequest.Argument] { [] }
        public func decode(_ response: SOAPResponse) throws -> ExternalAddress {
            ExternalAddress(reported: response.values["NewExternalIPAddress"] ?? "")
        }
    }

    public struct StatusInfo: Sendable, Equatable, Codable {
        public var connectionStatus: String
        public var lastConnectionError: String
        /// Seconds since the connection came up.
        public var uptime: UInt32
    }

    public struct GetStatusInfo: IGDAction {
        public static let name = "GetStatusInfo"
        public init() {}
        public var arguments: [SOAPRequest.Argument] { [] }
        public func decode(_ response: SOAPResponse) throws -> StatusInfo {
            StatusInfo(
                connectionStatus: try response.string("NewConnectionStatus"),
                lastConnectionError: response.values["NewLastConnectionError"] ?? "",
                uptime: (try? response.integer("NewUptime")) ?? 0
            )
        }
    }

    public struct ConnectionTypeInfo: Sendable, Equatable, Codable {
        public var connectionType: String
        public var possibleConnectionTypes: String
    }

    public struct GetConnectionTypeInfo: IGDAction {
        public static let name = "GetConnectionTypeInfo"
        public init() {}
        public var arguments: [SOAPRequest.Argument] { [] }
        public func decode(_ response: SOAPResponse) throws -> ConnectionTypeInfo {
            ConnectionTypeInfo(
                connectionType: try response.string("NewConnectionType"),
                possibleConnectionTypes: response.values["NewPossibleConnectionTypes"] ?? ""
            )
        }
    }

    public struct GetGenericPortMappingEntry: IGDAction {
        public static let name = "GetGenericPortMappingEntry"
        public var index: Int
        public init(index: Int) { self.index = index }
        public var arguments: [SOAPRequest.Argument] { [.init("NewPortMappingIndex", String(index))] }
        /// - Throws: ``ProtocolViolation`` for an entry that does not make sense; use
        ///   ``decodeChecked(_:)`` for the typed ``InvalidPortMappingEntry``.
        public func decode(_ response: SOAPResponse) throws -> PortMappingEntry {
            do {
                return try decodeChecked(response)
            } catch let invalid as InvalidPortMappingEntry {
                throw invalid.asViolation
            }
        }

        /// - Throws: ``InvalidPortMappingEntry`` naming what does not make sense.
        public func decodeChecked(_ response: SOAPResponse) throws -> PortMappingEntry {
            try PortMappingEntry.checked(response.values, action: Self.name, index: index,
                                         descriptionField: "NewPortMappingDescription", leaseField: "NewLeaseDuration")
        }
    }

    public struct GetSpecificPortMappingEntry: IGDAction {
        public static let name = "GetSpecificPortMappingEntry"
        public var remoteHost: String
        public var externalPort: UInt16
        public var `protocol`: TransportProtocol
        public init(remoteHost: String = "", externalPort: UInt16, protocol: TransportProtocol) {
            self.remoteHost = remoteHost
            self.externalPort = externalPort
            self.protocol = `protocol`
        }
        public var arguments: [SOAPRequest.Argument] {
            [.init("NewRemoteHost", remoteHost), .init("NewExternalPort", String(externalPort)), .init("NewProtocol", `protocol`.rawValue)]
        }
        public func decode(_ response: SOAPResponse) throws -> PortMappingEntry {
            do {
                return try PortMappingEntry.checked(response.values, action: Self.name, index: nil, descriptionField: "NewPortMappingDescription",
                                                    leaseField: "NewLeaseDuration", key: (remoteHost, externalPort, `protocol`))
            } catch let invalid as InvalidPortMappingEntry {
                throw invalid.asViolation
            }
        }
    }

    /// IGDv2: the whole table in one answer (WANIPConnection:2 §2.5.20).
    public struct GetListOfPortMappings: IGDAction {
        public static let name = "GetListOfPortMappings"
        public static let requiresVersion2 = true
        public var startPort: UInt16
        public var endPort: UInt16
        public var `protocol`: TransportProtocol
        /// true: every entry, not only this client's.
        public var manage: Bool
        public var numberOfPorts: Int
        public init(startPort: UInt16 = 1, endPort: UInt16 = 65535, protocol: TransportProtocol, manage: Bool = true, numberOfPorts: Int = 1000) {
            self.startPort = startPort
            self.endPort = endPort
            self.protocol = `protocol`
            self.manage = manage
            self.numberOfPorts = numberOfPorts
        }
        public var arguments: [SOAPRequest.Argument] {
            [
                .init("NewStartPort", String(startPort)), .init("NewEndPort", String(endPort)),
                .init("NewProtocol", `protocol`.rawValue), .init("NewManage", manage ? "1" : "0"),
                .init("NewNumberOfPorts", String(numberOfPorts)),
            ]
        }
        /// - Throws: ``ProtocolViolation`` also for an entry that does not make sense; use
        ///   ``decodeChecked(_:)`` to have those set apart.
        public func decode(_ response: SOAPResponse) throws -> [PortMappingEntry] {
            try PortListing.parse(Array(try response.string("NewPortListing").utf8))
        }

        /// The entries that make sense, and those that do not as ``InvalidPortMappingEntry``.
        public func decodeChecked(_ response: SOAPResponse) throws -> (entries: [PortMappingEntry], invalid: [InvalidPortMappingEntry]) {
            try PortListing.parseChecked(Array(try response.string("NewPortListing").utf8))
        }
    }

    public struct AddPortMapping: IGDAction {
        public static let name = "AddPortMapping"
        public var entry: PortMappingEntry
        public init(_ entry: PortMappingEntry) { self.entry = entry }
        public var arguments: [SOAPRequest.Argument] { PortMappingEntry.requestArguments(entry) }
        public func decode(_ response: SOAPResponse) throws {}
    }

    /// IGDv2: the gateway picks a free external port when the asked one is taken.
    public struct AddAnyPortMapping: IGDAction {
        public static let name = "AddAnyPortMapping"
        public static let requiresVersion2 = true
        public var entry: PortMappingEntry
        public init(_ entry: PortMappingEntry) { self.entry = entry }
        public var arguments: [SOAPRequest.Argument] { PortMappingEntry.requestArguments(entry) }
        public func decode(_ response: SOAPResponse) throws -> UInt16 {
            try response.port("NewReservedPort")
        }
    }

    public struct DeletePortMapping: IGDAction {
        public static let name = "DeletePortMapping"
        public var remoteHost: String
        public var externalPort: UInt16
        public var `protocol`: TransportProtocol
        public init(remoteHost: String = "", externalPort: UInt16, protocol: TransportProtocol) {
            self.remoteHost = remoteHost
            self.externalPort = externalPort
            self.protocol = `protocol`
        }
        public var arguments: [SOAPRequest.Argument] {
            [.init("NewRemoteHost", remoteHost), .init("NewExternalPort", String(externalPort)), .init("NewProtocol", `protocol`.rawValue)]
        }
        public func decode(_ response: SOAPResponse) throws {}
    }

    /// IGDv2: deletes every entry in a port range.
    public struct DeletePortMappingRange: IGDAction {
        public static let name = "DeletePortMappingRange"
        public static let requiresVersion2 = true
        public var startPort: UInt16
        public var endPort: UInt16
        public var `protocol`: TransportProtocol
        public var manage: Bool
        public init(startPort: UInt16, endPort: UInt16, protocol: TransportProtocol, manage: Bool = false) {
            self.startPort = startPort
            self.endPort = endPort
            self.protocol = `protocol`
            self.manage = manage
        }
        public var arguments: [SOAPRequest.Argument] {
            [
                .init("NewStartPort", String(startPort)), .init("NewEndPort", String(endPort)),
                .init("NewProtocol", `protocol`.rawValue), .init("NewManage", manage ? "1" : "0"),
            ]
        }
        public func decode(_ response: SOAPResponse) throws {}
    }
}

extension PortMappingEntry {
    static func requestArguments(_ entry: PortMappingEntry) -> [SOAPRequest.Argument] {
        [
            .init("NewRemoteHost", entry.remoteHost),
            .init("NewExternalPort", String(entry.externalPort)),
            .init("NewProtocol", entry.protocol.rawValue),
            .init("NewInternalPort", String(entry.internalPort)),
            .init("NewInternalClient", entry.internalClient),
            .init("NewEnabled", entry.enabled ? "1" : "0"),
            .init("NewPortMappingDescription", entry.description),
            .init("NewLeaseDuration", String(entry.leaseDuration)),
        ]
    }
}

/// The `PortMappingList` document GetListOfPortMappings returns in NewPortListing.
public enum PortListing {
    /// - Throws: ``ProtocolViolation`` for a document that is not a PortMappingList, and for
    ///   the first entry that does not make sense.
    public static func parse(_ bytes: [UInt8]) throws -> [PortMappingEntry] {
        let checked = try parseChecked(bytes)
        if let first = checked.invalid.first { throw first.asViolation }
        return checked.entries
    }

    /// The entries that make sense, and those that do not, set apart.
    /// - Throws: ``ProtocolViolation`` for a document that is not a PortMappingList.
    public static func parseChecked(_ bytes: [UInt8]) throws -> (entries: [PortMappingEntry], invalid: [InvalidPortMappingEntry]) {
        let list = try XMLTree.parse(bytes)
        guard list.name == "PortMappingList" else {
            throw ProtocolViolation("NewPortListing's root is <\(list.name)>, not <PortMappingList>")
        }
        var entries: [PortMappingEntry] = []
        var invalid: [InvalidPortMappingEntry] = []
        for element in list.children where element.name == "PortMappingEntry" {
            let values = Dictionary(element.children.map { ($0.name, $0.text) }, uniquingKeysWith: { first, _ in first })
            do {
                entries.append(try PortMappingEntry.checked(values, action: "GetListOfPortMappings", index: nil, descriptionField: "NewDescription", leaseField: "NewLeaseTime"))
            } catch let error as InvalidPortMappingEntry {
                invalid.append(error)
            }
        }
        return (entries, invalid)
    }
}
