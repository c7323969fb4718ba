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
    /// Most actions exist in every version.
    public static var requiresVersion2: Bool { false }

    /// The SOAP request for this action on a service of `serviceType`.
    public func request(serviceType: String) -> SOAPRequest {
        SOAPRequest(serviceType: serviceType, action: Self.name, arguments: arguments)
    }
}

/// The WANIPConnection / WANPPPConnection actions portkeeper sends, one type each.
public enum Actions {
    /// The gateway's external address (WANIPConnection §2.5.19).
    public struct GetExternalIPAddress: IGDAction {
        /// The action's name in the SOAP request.
        public static let name = "GetExternalIPAddress"
        /// The action; it takes no arguments.
        public init() {}
        /// The SOAP arguments, in the order the specification lists them.
        public var arguments: [SOAPRequest.Argument] { [] }
        /// Reads the answer's values.
        /// - Throws: `ProtocolViolation` for a value missing or out of range.
        public func decode(_ response: SOAPResponse) throws -> ExternalAddress {
            ExternalAddress(reported: response.values["NewExternalIPAddress"] ?? "")
        }
    }

    /// GetStatusInfo's answer.
    public struct StatusInfo: Sendable, Equatable, Codable {
        /// "Connected", "Disconnected"…, as the gateway says it.
        public var connectionStatus: String
        /// "ERROR_NONE" or why the last connection failed, as the gateway says it.
        public var lastConnectionError: String
        /// Seconds since the connection came up.
        public var uptime: UInt32
    }

    /// The connection's status and uptime (WANIPConnection §2.5.13).
    public struct GetStatusInfo: IGDAction {
        /// The action's name in the SOAP request.
        public static let name = "GetStatusInfo"
        /// The action; it takes no arguments.
        public init() {}
        /// The SOAP arguments, in the order the specification lists them.
        public var arguments: [SOAPRequest.Argument] { [] }
        /// Reads the answer's values.
        /// - Throws: `ProtocolViolation` for a value missing or out of range.
        public func decode(_ response: SOAPResponse) throws -> StatusInfo {
            StatusInfo(
                connectionStatus: try response.string("NewConnectionStatus"),
                lastConnectionError: response.values["NewLastConnectionError"] ?? "",
                uptime: (try? response.integer("NewUptime")) ?? 0
            )
        }
    }

    /// GetConnectionTypeInfo's answer.
    public struct ConnectionTypeInfo: Sendable, Equatable, Codable {
        /// "IP_Routed", "IP_Bridged"…, as the gateway says it.
        public var connectionType: String
        /// The types it could use, comma-separated, as it says them.
        public var possibleConnectionTypes: String
    }

    /// How the connection is set up (WANIPConnection §2.5.2).
    public struct GetConnectionTypeInfo: IGDAction {
        /// The action's name in the SOAP request.
        public static let name = "GetConnectionTypeInfo"
        /// The action; it takes no arguments.
        public init() {}
        /// The SOAP arguments, in the order the specification lists them.
        public var arguments: [SOAPRequest.Argument] { [] }
        /// Reads the answer's values.
        /// - Throws: `ProtocolViolation` for a value missing or out of range.
        public func decode(_ response: SOAPResponse) throws -> ConnectionTypeInfo {
            ConnectionTypeInfo(
                connectionType: try response.string("NewConnectionType"),
                possibleConnectionTypes: response.values["NewPossibleConnectionTypes"] ?? ""
            )
        }
    }

    /// The entry at an index of the gateway's table (WANIPConnection §2.5.15); walking the indices lists the table.
    public struct GetGenericPortMappingEntry: IGDAction {
        /// The action's name in the SOAP request.
        public static let name = "GetGenericPortMappingEntry"
        /// The entry's index, from 0.
        public var index: Int
        /// The entry at `index`.
        public init(index: Int) { self.index = index }
        /// The SOAP arguments, in the order the specification lists them.
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

    /// The entry for one key, if the gateway has it (WANIPConnection §2.5.16); 714 when it has none.
    public struct GetSpecificPortMappingEntry: IGDAction {
        /// The action's name in the SOAP request.
        public static let name = "GetSpecificPortMappingEntry"
        /// The remote host of the key; empty for any.
        public var remoteHost: String
        /// The external port of the key.
        public var externalPort: UInt16
        /// TCP or UDP.
        public var `protocol`: TransportProtocol
        /// The action for the key `remoteHost`, `externalPort`, `protocol`.
        public init(remoteHost: String = "", externalPort: UInt16, protocol: TransportProtocol) {
            self.remoteHost = remoteHost
            self.externalPort = externalPort
            self.protocol = `protocol`
        }
        /// The SOAP arguments, in the order the specification lists them.
        public var arguments: [SOAPRequest.Argument] {
            [.init("NewRemoteHost", remoteHost), .init("NewExternalPort", String(externalPort)), .init("NewProtocol", `protocol`.rawValue)]
        }
        /// Reads the answer's values.
        /// - Throws: `ProtocolViolation` for a value missing or out of range.
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
        /// The action's name in the SOAP request.
        public static let name = "GetListOfPortMappings"
        /// Only WANIPConnection:2 offers it: refused before sending on another service.
        public static let requiresVersion2 = true
        /// The first external port of the range.
        public var startPort: UInt16
        /// The last external port of the range.
        public var endPort: UInt16
        /// TCP or UDP.
        public var `protocol`: TransportProtocol
        /// true: every entry, not only this client's.
        public var manage: Bool
        /// The most entries the gateway should return.
        public var numberOfPorts: Int
        /// Every entry of `protocol` in the range, up to `numberOfPorts`, every client's unless `manage` is false.
        public init(startPort: UInt16 = 1, endPort: UInt16 = 65535, protocol: TransportProtocol, manage: Bool = true, numberOfPorts: Int = 1000) {
            self.startPort = startPort
            self.endPort = endPort
            self.protocol = `protocol`
            self.manage = manage
            self.numberOfPorts = numberOfPorts
        }
        /// The SOAP arguments, in the order the specification lists them.
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

    /// Writes a mapping; the same key replaces the old one (WANIPConnection §2.5.17).
    public struct AddPortMapping: IGDAction {
        /// The action's name in the SOAP request.
        public static let name = "AddPortMapping"
        /// The mapping to write.
        public var entry: PortMappingEntry
        /// The action writing `entry`.
        public init(_ entry: PortMappingEntry) { self.entry = entry }
        /// The SOAP arguments, in the order the specification lists them.
        public var arguments: [SOAPRequest.Argument] { PortMappingEntry.requestArguments(entry) }
        /// An empty answer is success; a fault comes as a `UPnPError` before this is asked.
        public func decode(_ response: SOAPResponse) throws {}
    }

    /// IGDv2: the gateway picks a free external port when the asked one is taken.
    public struct AddAnyPortMapping: IGDAction {
        /// The action's name in the SOAP request.
        public static let name = "AddAnyPortMapping"
        /// Only WANIPConnection:2 offers it: refused before sending on another service.
        public static let requiresVersion2 = true
        /// The mapping to write.
        public var entry: PortMappingEntry
        /// The action writing `entry`.
        public init(_ entry: PortMappingEntry) { self.entry = entry }
        /// The SOAP arguments, in the order the specification lists them.
        public var arguments: [SOAPRequest.Argument] { PortMappingEntry.requestArguments(entry) }
        /// Reads the answer's values.
        /// - Throws: `ProtocolViolation` for a value missing or out of range.
        public func decode(_ response: SOAPResponse) throws -> UInt16 {
            try response.port("NewReservedPort")
        }
    }

    /// Removes the mapping with a key (WANIPConnection §2.5.18); 714 when there is none.
    public struct DeletePortMapping: IGDAction {
        /// The action's name in the SOAP request.
        public static let name = "DeletePortMapping"
        /// The remote host of the key; empty for any.
        public var remoteHost: String
        /// The external port of the key.
        public var externalPort: UInt16
        /// TCP or UDP.
        public var `protocol`: TransportProtocol
        /// The action for the key `remoteHost`, `externalPort`, `protocol`.
        public init(remoteHost: String = "", externalPort: UInt16, protocol: TransportProtocol) {
            self.remoteHost = remoteHost
            self.externalPort = externalPort
            self.protocol = `protocol`
        }
        /// The SOAP arguments, in the order the specification lists them.
        public var arguments: [SOAPRequest.Argument] {
            [.init("NewRemoteHost", remoteHost), .init("NewExternalPort", String(externalPort)), .init("NewProtocol", `protocol`.rawValue)]
        }
        /// An empty answer is success; a fault comes as a `UPnPError` before this is asked.
        public func decode(_ response: SOAPResponse) throws {}
    }

    /// IGDv2: deletes every entry in a port range.
    public struct DeletePortMappingRange: IGDAction {
        /// The action's name in the SOAP request.
        public static let name = "DeletePortMappingRange"
        /// Only WANIPConnection:2 offers it: refused before sending on another service.
        public static let requiresVersion2 = true
        /// The first external port of the range.
        public var startPort: UInt16
        /// The last external port of the range.
        public var endPort: UInt16
        /// TCP or UDP.
        public var `protocol`: TransportProtocol
        /// true: every client's entries, not only this one's.
        public var manage: Bool
        /// Deletes the entries of `protocol` in the range, only this client's unless `manage`.
        public init(startPort: UInt16, endPort: UInt16, protocol: TransportProtocol, manage: Bool = false) {
            self.startPort = startPort
            self.endPort = endPort
            self.protocol = `protocol`
            self.manage = manage
        }
        /// The SOAP arguments, in the order the specification lists them.
        public var arguments: [SOAPRequest.Argument] {
            [
                .init("NewStartPort", String(startPort)), .init("NewEndPort", String(endPort)),
                .init("NewProtocol", `protocol`.rawValue), .init("NewManage", manage ? "1" : "0"),
            ]
        }
        /// An empty answer is success; a fault comes as a `UPnPError` before this is asked.
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
