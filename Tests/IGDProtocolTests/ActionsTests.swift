import Testing
@testable import IGDProtocol

@Suite("Actions")
struct ActionsTests {
    func decode<A: IGDAction>(_ action: A, _ arguments: [(String, String)], serviceType: String = WANServiceType.ip1) throws -> A.Response {
        let body = Envelope.response(action: A.name, serviceType: serviceType, arguments: arguments)
        return try action.decode(try SOAPResponse.decode(action: A.name, status: 200, body: body))
    }

    static let genericEntryFields: [(String, String)] = [
        ("NewRemoteHost", ""), ("NewExternalPort", "8080"), ("NewProtocol", "TCP"), ("NewInternalPort", "80"),
        ("NewInternalClient", "192.168.1.2"), ("NewEnabled", "1"), ("NewPortMappingDescription", "web"), ("NewLeaseDuration", "3600"),
    ]

    func replacing(_ name: String, with value: String?, in fields: [(String, String)]) -> [(String, String)] {
        fields.compactMap { $0.0 == name ? value.map { (name, $0) } : $0 }
    }

    // MARK: GetGenericPortMappingEntry

    @Test func nttSeedEntry() throws {
        let body = try FixtureLoader.bytes(Fixture.nttGenericEntryResponse)
        let response = try SOAPResponse.decode(action: "GetGenericPortMappingEntry", status: 200, body: body)
        let entry = try Actions.GetGenericPortMappingEntry(index: 0).decode(response)
        #expect(entry == PortMappingEntry(
            remoteHost: "", externalPort: 80, protocol: .tcp, internalPort: 80, internalClient: "",
            enabled: false, description: "Webサーバ (HTTP)", leaseDuration: 0
        ))
        #expect(entry.enabled == false)
        #expect(entry.internalClient.isEmpty)
    }

    @Test func genericEntryFromMiniupnpdShape() throws {
        let entry = try decode(Actions.GetGenericPortMappingEntry(index: 3), Self.genericEntryFields)
        #expect(entry == PortMappingEntry(
            externalPort: 8080, protocol: .tcp, internalPort: 80, internalClient: "192.168.1.2",
            enabled: true, description: "web", leaseDuration: 3600
        ))
    }

    @Test("Invalid ports in an entry are refused", arguments: ["NewExternalPort", "NewInternalPort"], ["70000", "0", "abc", "", "-80"])
    func invalidPort(field: String, value: String) {
        let fields = replacing(field, with: value, in: Self.genericEntryFields)
        let error = #expect(throws: ProtocolViolation.self) { try decode(Actions.GetGenericPortMappingEntry(index: 0), fields) }
        #expect(error?.description.contains(field) == true)
    }

    @Test("Protocols other than TCP and UDP are refused", arguments: ["SCTP", "ICMP", "", "TCP/UDP"])
    func invalidProtocol(value: String) {
        let fields = replacing("NewProtocol", with: value, in: Self.genericEntryFields)
        #expect(throws: ProtocolViolation.self) { try decode(Actions.GetGenericPortMappingEntry(index: 0), fields) }
    }

    @Test func lowerCaseProtocolIsAccepted() throws {
        let fields = replacing("NewProtocol", with: "udp", in: Self.genericEntryFields)
        #expect(try decode(Actions.GetGenericPortMappingEntry(index: 0), fields).protocol == .udp)
    }

    @Test("Required fields of an entry", arguments: ["NewExternalPort", "NewProtocol", "NewInternalPort", "NewEnabled"])
    func missingRequiredField(field: String) {
        let fields = replacing(field, with: nil, in: Self.genericEntryFields)
        let error = #expect(throws: ProtocolViolation.self) { try decode(Actions.GetGenericPortMappingEntry(index: 0), fields) }
        #expect(error?.description.contains(field) == true)
    }

    @Test func invalidEnabledIsRefused() {
        let fields = replacing("NewEnabled", with: "maybe", in: Self.genericEntryFields)
        #expect(throws: ProtocolViolation.self) { try decode(Actions.GetGenericPortMappingEntry(index: 0), fields) }
    }

    @Test func optionalFieldsDefault() throws {
        var fields = Self.genericEntryFields
        for name in ["NewRemoteHost", "NewPortMappingDescription", "NewLeaseDuration"] {
            fields = replacing(name, with: nil, in: fields)
        }
        let entry = try decode(Actions.GetGenericPortMappingEntry(index: 0), fields)
        #expect(entry.remoteHost == "")
        #expect(entry.description == "")
        #expect(entry.leaseDuration == 0)
    }

    /// Values a gateway sent that cannot be acted on, and the phrase that must name them.
    static let senselessEntries: [(field: String, value: String?, problem: String)] = [
        ("NewInternalClient", nil, "no NewInternalClient"),
        ("NewInternalClient", "x.y", "internal client 'x.y' is not an IPv4 address"),
        ("NewInternalClient", "198.51.100.2&amp;amp;", "internal client '198.51.100.2&amp;' is not an IPv4 address"),
        ("NewInternalClient", "192.168.001.2", "internal client '192.168.001.2' is not an IPv4 address"),
        ("NewInternalClient", "", "an enabled entry with no internal client"),
        ("NewLeaseDuration", "-1", "NewLeaseDuration '-1' is not a number of seconds"),
        ("NewLeaseDuration", "soon", "NewLeaseDuration 'soon' is not a number of seconds"),
        ("NewLeaseDuration", "4294967296", "NewLeaseDuration '4294967296' is not a number of seconds"),
        ("NewExternalPort", "65536", "NewExternalPort '65536' is not a port from 1 to 65535"),
        ("NewInternalPort", "-80", "NewInternalPort '-80' is not a port from 1 to 65535"),
        ("NewProtocol", "SCTP", "NewProtocol 'SCTP' is neither TCP nor UDP"),
    ]

    @Test("An entry that makes no sense is a typed invalid entry naming the problem, and a violation to decode", arguments: senselessEntries)
    func senselessEntry(field: String, value: String?, problem: String) throws {
        let fields = replacing(field, with: value, in: Self.genericEntryFields)
        let body = Envelope.response(action: "GetGenericPortMappingEntry", arguments: fields)
        let response = try SOAPResponse.decode(action: "GetGenericPortMappingEntry", status: 200, body: body)
        let invalid = #expect(throws: InvalidPortMappingEntry.self) { try Actions.GetGenericPortMappingEntry(index: 7).decodeChecked(response) }
        #expect(invalid?.problems == [problem])
        #expect(invalid?.index == 7)
        #expect(invalid?.description.hasPrefix("entry 7 (") == true, "\(invalid as Any)")
        let violation = #expect(throws: ProtocolViolation.self) { try Actions.GetGenericPortMappingEntry(index: 7).decode(response) }
        #expect(violation?.description.contains(problem) == true, "\(violation as Any)")
    }

    @Test func everyProblemOfAnEntryIsNamedOnce() throws {
        var fields = replacing("NewInternalClient", with: "x.y", in: Self.genericEntryFields)
        fields = replacing("NewLeaseDuration", with: "-5", in: fields)
        let body = Envelope.response(action: "GetGenericPortMappingEntry", arguments: fields)
        let response = try SOAPResponse.decode(action: "GetGenericPortMappingEntry", status: 200, body: body)
        let invalid = #expect(throws: InvalidPortMappingEntry.self) { try Actions.GetGenericPortMappingEntry(index: 0).decodeChecked(response) }
        #expect(invalid?.problems == ["NewLeaseDuration '-5' is not a number of seconds", "internal client 'x.y' is not an IPv4 address"])
        #expect(invalid?.summary == "8080/TCP → x.y:80 'web'")
    }

    @Test func aDisabledEntryWithNoClientStillMakesSense() throws {
        var fields = replacing("NewInternalClient", with: "", in: Self.genericEntryFields)
        fields = replacing("NewEnabled", with: "0", in: fields)
        let entry = try decode(Actions.GetGenericPortMappingEntry(index: 0), fields)
        #expect(entry.internalClient == "" && !entry.enabled)
        #expect(entry.problems.isEmpty)
    }

    @Test func aSpecificEntryWithANonsenseClientIsRefused() {
        let action = Actions.GetSpecificPortMappingEntry(externalPort: 9090, protocol: .udp)
        let error = #expect(throws: ProtocolViolation.self) {
            try decode(action, [("NewInternalPort", "9091"), ("NewInternalClient", "x.y"), ("NewEnabled", "1"), ("NewLeaseDuration", "0")])
        }
        #expect(error?.description.contains("internal client 'x.y' is not an IPv4 address") == true)
    }

    @Test func indexPastTheEndIsAFault() {
        let body = Envelope.fault(code: 713, description: "SpecifiedArrayIndexInvalid")
        let error = #expect(throws: UPnPError.self) {
            try Actions.GetGenericPortMappingEntry(index: 99).decode(try SOAPResponse.decode(action: "GetGenericPortMappingEntry", status: 500, body: body))
        }
        #expect(error?.code == UPnPError.specifiedArrayIndexInvalid)
    }

    // MARK: GetSpecificPortMappingEntry

    @Test func specificEntryKeepsTheRequestedKey() throws {
        let action = Actions.GetSpecificPortMappingEntry(remoteHost: "", externalPort: 9090, protocol: .udp)
        let entry = try decode(action, [
            ("NewInternalPort", "9091"), ("NewInternalClient", "192.168.77.2"), ("NewEnabled", "1"),
            ("NewPortMappingDescription", "A&amp;B &lt;x&gt;"), ("NewLeaseDuration", "604797"),
        ])
        #expect(entry == PortMappingEntry(
            externalPort: 9090, protocol: .udp, internalPort: 9091, internalClient: "192.168.77.2",
            enabled: true, description: "A&B <x>", leaseDuration: 604797
        ))
    }

    @Test func specificEntryNeedsTheInternalClient() {
        let action = Actions.GetSpecificPortMappingEntry(externalPort: 9090, protocol: .tcp)
        #expect(throws: ProtocolViolation.self) { try decode(action, [("NewInternalPort", "9091"), ("NewEnabled", "1")]) }
        #expect(throws: ProtocolViolation.self) {
            try decode(action, [("NewInternalPort", "0"), ("NewInternalClient", "192.168.77.2"), ("NewEnabled", "1")])
        }
    }

    // MARK: other actions

    @Test func externalIPAddress() throws {
        let address = try decode(Actions.GetExternalIPAddress(), [("NewExternalIPAddress", "11.77.0.1")])
        #expect(address.reported == "11.77.0.1")
        #expect(address.address == IPv4Address(11, 77, 0, 1))
        #expect(address.addressClass == .public)
        let padded = try decode(Actions.GetExternalIPAddress(), [("NewExternalIPAddress", "\n  192.168.1.2 \n")])
        #expect(padded.reported == "192.168.1.2")
        #expect(padded.addressClass == .private)
        let missing = try decode(Actions.GetExternalIPAddress(), [])
        #expect(missing.reported == "")
        #expect(missing.addressClass == .unspecified)
    }

    @Test func statusInfo() throws {
        let status = try decode(Actions.GetStatusInfo(), [
            ("NewConnectionStatus", "Connected"), ("NewLastConnectionError", "ERROR_NONE"), ("NewUptime", "123456"),
        ], serviceType: WANServiceType.ppp1)
        #expect(status == Actions.StatusInfo(connectionStatus: "Connected", lastConnectionError: "ERROR_NONE", uptime: 123_456))
        let sparse = try decode(Actions.GetStatusInfo(), [("NewConnectionStatus", "Disconnected"), ("NewUptime", "not a number")])
        #expect(sparse == Actions.StatusInfo(connectionStatus: "Disconnected", lastConnectionError: "", uptime: 0))
        #expect(throws: ProtocolViolation.self) { try decode(Actions.GetStatusInfo(), [("NewUptime", "5")]) }
    }

    @Test func connectionTypeInfo() throws {
        let info = try decode(Actions.GetConnectionTypeInfo(), [("NewConnectionType", "IP_Routed"), ("NewPossibleConnectionTypes", "IP_Routed")])
        #expect(info == Actions.ConnectionTypeInfo(connectionType: "IP_Routed", possibleConnectionTypes: "IP_Routed"))
        #expect(throws: ProtocolViolation.self) { try decode(Actions.GetConnectionTypeInfo(), []) }
    }

    @Test func addAnyPortMappingReturnsTheReservedPort() throws {
        let entry = PortMappingEntry(externalPort: 9090, protocol: .tcp, internalPort: 9090, internalClient: "192.168.77.2", description: "x")
        #expect(try decode(Actions.AddAnyPortMapping(entry), [("NewReservedPort", "9091")], serviceType: WANServiceType.ip2) == 9091)
        #expect(throws: ProtocolViolation.self) { try decode(Actions.AddAnyPortMapping(entry), [("NewReservedPort", "0")]) }
        #expect(throws: ProtocolViolation.self) { try decode(Actions.AddAnyPortMapping(entry), []) }
    }

    /// Their decode has nothing to read: what is checked is that the answer is this action's.
    @Test func actionsWithoutOutputAcceptOnlyTheirOwnResponse() throws {
        let entry = PortMappingEntry(externalPort: 9090, protocol: .tcp, internalPort: 9090, internalClient: "192.168.77.2", description: "x")
        try decode(Actions.AddPortMapping(entry), [])
        let another = Envelope.response(action: "DeletePortMapping", serviceType: WANServiceType.ip1, arguments: [])
        #expect(throws: ProtocolViolation.self) { try SOAPResponse.decode(action: Actions.AddPortMapping.name, status: 200, body: another) }
    }

    @Test func addPortMappingConflictIsAFault() {
        let entry = PortMappingEntry(externalPort: 80, protocol: .tcp, internalPort: 80, internalClient: "192.168.1.3", description: "x")
        let body = Envelope.fault(code: 718, description: "ConflictInMappingEntry")
        let error = #expect(throws: UPnPError.self) {
            try Actions.AddPortMapping(entry).decode(try SOAPResponse.decode(action: "AddPortMapping", status: 500, body: body))
        }
        #expect(error?.name == "ConflictInMappingEntry")
    }

    // MARK: GetListOfPortMappings

    @Test func listOfPortMappingsFromMiniupnpd() throws {
        let body = try FixtureLoader.bytes(Fixture.listOfPortMappingsResponse)
        let response = try SOAPResponse.decode(action: "GetListOfPortMappings", status: 200, body: body)
        // The listing arrives as text: one level of escaping is gone, the inner document's remains.
        let listing = try response.string("NewPortListing")
        #expect(listing.hasPrefix("<?xml version=\"1.0\"?>"))
        #expect(listing.contains("<p:NewDescription>A&amp;B &lt;x&gt;</p:NewDescription>"))
        let entries = try Actions.GetListOfPortMappings(protocol: .tcp).decode(response)
        #expect(entries == [
            PortMappingEntry(
                remoteHost: "", externalPort: 9090, protocol: .tcp, internalPort: 9090, internalClient: "192.168.77.2",
                enabled: true, description: "A&B <x>", leaseDuration: 604797
            ),
            PortMappingEntry(
                remoteHost: "", externalPort: 5000, protocol: .udp, internalPort: 5001, internalClient: "192.168.77.3",
                enabled: false, description: "Webサーバ (HTTP)", leaseDuration: 0
            ),
        ])
    }

    func listing(_ entries: String) -> [UInt8] {
        Array(("<?xml version=\"1.0\"?><p:PortMappingList xmlns:p=\"urn:schemas-upnp-org:gw:WANIPConnection\">" + entries + "</p:PortMappingList>").utf8)
    }

    func entryXML(port: String = "9090", protocol proto: String = "TCP", client: String? = "192.168.77.2", enabled: String = "1", lease: String = "60") -> String {
        "<p:PortMappingEntry><p:NewRemoteHost></p:NewRemoteHost><p:NewExternalPort>\(port)</p:NewExternalPort><p:NewProtocol>\(proto)</p:NewProtocol><p:NewInternalPort>\(port)</p:NewInternalPort>"
            + (client.map { "<p:NewInternalClient>\($0)</p:NewInternalClient>" } ?? "")
            + "<p:NewEnabled>\(enabled)</p:NewEnabled><p:NewDescription>d</p:NewDescription><p:NewLeaseTime>\(lease)</p:NewLeaseTime></p:PortMappingEntry>"
    }

    @Test func emptyListing() throws {
        #expect(try PortListing.parse(listing("")) == [])
    }

    @Test func listingIgnoresOtherElements() throws {
        let entries = try PortListing.parse(listing("<p:Comment>x</p:Comment>" + entryXML()))
        #expect(entries.count == 1)
        #expect(entries.first?.leaseDuration == 60)
    }

    @Test("Invalid listing entries are refused", arguments: [
        ("70000", "TCP", "192.168.77.2", "1"), ("0", "TCP", "192.168.77.2", "1"), ("abc", "TCP", "192.168.77.2", "1"),
        ("9090", "SCTP", "192.168.77.2", "1"), ("9090", "TCP", nil, "1"), ("9090", "TCP", "192.168.77.2", "maybe"),
        ("9090", "TCP", "x.y", "1"), ("9090", "TCP", "", "1"),
    ])
    func invalidListingEntry(port: String, proto: String, client: String?, enabled: String) {
        #expect(throws: ProtocolViolation.self) {
            try PortListing.parse(listing(entryXML() + entryXML(port: port, protocol: proto, client: client, enabled: enabled)))
        }
    }

    @Test func parseCheckedSetsSenselessEntriesApart() throws {
        let checked = try PortListing.parseChecked(listing(entryXML() + entryXML(port: "9090", client: "x.y") + entryXML(port: "9091", client: nil)))
        #expect(checked.entries.count == 1)
        #expect(checked.invalid.map(\.problems) == [["internal client 'x.y' is not an IPv4 address"], ["no NewInternalClient"]])
        #expect(checked.invalid.first?.summary.hasPrefix("9090/TCP → x.y:9090") == true)
    }

    @Test("Listings that are not a PortMappingList are refused", arguments: [
        "", "not xml", "<p:Other xmlns:p=\"urn:x\"/>", "<!DOCTYPE p [<!ENTITY a \"b\">]><PortMappingList/>",
    ])
    func notAListing(text: String) {
        #expect(throws: ProtocolViolation.self) { try PortListing.parse(Array(text.utf8)) }
    }

    @Test func listingWithoutNewPortListingIsRefused() {
        #expect(throws: ProtocolViolation.self) { try decode(Actions.GetListOfPortMappings(protocol: .tcp), [], serviceType: WANServiceType.ip2) }
    }

    @Test func emptyListOfPortMappingsIsAFault() {
        let body = Envelope.fault(code: 730, description: "PortMappingNotFound")
        let error = #expect(throws: UPnPError.self) {
            try Actions.GetListOfPortMappings(protocol: .tcp).decode(try SOAPResponse.decode(action: "GetListOfPortMappings", status: 500, body: body))
        }
        #expect(error?.code == UPnPError.portMappingNotFound)
    }

    // MARK: values

    @Test("TransportProtocol parsing", arguments: [("TCP", TransportProtocol?.some(.tcp)), ("tcp", .tcp), ("Udp", .udp), ("SCTP", nil), ("", nil)])
    func transportProtocol(text: String, value: TransportProtocol?) {
        #expect(TransportProtocol(caseInsensitive: text) == value)
    }

    @Test func transportProtocolIsSentUpperCase() {
        #expect(TransportProtocol.tcp.rawValue == "TCP")
        #expect(TransportProtocol.udp.description == "UDP")
    }

    @Test func entryDefaults() {
        let entry = PortMappingEntry(externalPort: 1, protocol: .tcp, internalPort: 2, internalClient: "10.0.0.2", description: "d")
        #expect(entry.remoteHost == "")
        #expect(entry.enabled)
        #expect(entry.leaseDuration == 0)
    }
}
