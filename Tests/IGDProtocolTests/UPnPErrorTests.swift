import Testing
@testable import IGDProtocol

@Suite("UPnPError")
struct UPnPErrorTests {
    static let named: [(Int, String)] = [
        (401, "InvalidAction"),
        (402, "InvalidArgs"),
        (501, "ActionFailed"),
        (606, "ActionNotAuthorized"),
        (713, "SpecifiedArrayIndexInvalid"),
        (714, "NoSuchEntryInArray"),
        (715, "WildCardNotPermittedInSrcIP"),
        (716, "WildCardNotPermittedInExtPort"),
        (718, "ConflictInMappingEntry"),
        (724, "SamePortValuesRequired"),
        (725, "OnlyPermanentLeasesSupported"),
        (726, "RemoteHostOnlySupportsWildcard"),
        (727, "ExternalPortOnlySupportsWildcard"),
        (728, "NoPortMapsAvailable"),
        (729, "ConflictWithOtherMechanisms"),
        (732, "WildCardNotPermittedInIntPort"),
    ]

    @Test("Spec codes decoded from a fault envelope carry their names", arguments: named)
    func namedCode(code: Int, name: String) {
        let body = Envelope.fault(code: code, description: name)
        let error = #expect(throws: UPnPError.self) { try SOAPResponse.decode(action: "AddPortMapping", status: 500, body: body) }
        #expect(error?.code == code)
        #expect(error?.name == name)
        #expect(error?.deviceDescription == name)
        // The device's description equals the name, so it is not repeated.
        #expect(error?.description == "UPnP error \(code) \(name)")
    }

    @Test("A device description other than the name is shown after it", arguments: named)
    func namedCodeWithOwnText(code: Int, name: String) {
        let body = Envelope.fault(code: code, description: "Vendor text for \(code)")
        let error = #expect(throws: UPnPError.self) { try SOAPResponse.decode(action: "DeletePortMapping", status: 500, body: body) }
        #expect(error?.description == "UPnP error \(code) \(name) (Vendor text for \(code))")
    }

    @Test func unknownCodePassesThrough() {
        let body = Envelope.fault(code: 899, description: "Mystery")
        let error = #expect(throws: UPnPError.self) { try SOAPResponse.decode(action: "AddPortMapping", status: 500, body: body) }
        #expect(error?.code == 899)
        #expect(error?.name == nil)
        #expect(error?.deviceDescription == "Mystery")
        #expect(error?.description == "UPnP error 899 (Mystery)")
    }

    @Test func unknownCodeWithoutDescription() {
        let body = Envelope.fault(code: 899)
        let error = #expect(throws: UPnPError.self) { try SOAPResponse.decode(action: "AddPortMapping", status: 500, body: body) }
        #expect(error == UPnPError(code: 899, deviceDescription: nil))
        #expect(error?.description == "UPnP error 899")
        #expect(error?.description.contains("899") == true)
    }

    @Test func emptyDeviceDescriptionIsNotShown() {
        #expect(UPnPError(code: 718, deviceDescription: "").description == "UPnP error 718 ConflictInMappingEntry")
        #expect(UPnPError(code: 899, deviceDescription: "").description == "UPnP error 899")
    }

    @Test func errorCodeTextIsTrimmed() {
        let body = Envelope.fault(code: "\n  714  \n", description: "NoSuchEntryInArray")
        let error = #expect(throws: UPnPError.self) { try SOAPResponse.decode(action: "GetGenericPortMappingEntry", status: 500, body: body) }
        #expect(error?.code == 714)
    }

    @Test func miniupnpdFaultFixture() throws {
        let body = try FixtureLoader.bytes(Fixture.fault718)
        let error = #expect(throws: UPnPError.self) { try SOAPResponse.decode(action: "AddPortMapping", status: 500, body: body) }
        #expect(error?.code == UPnPError.conflictInMappingEntry)
        #expect(error?.description == "UPnP error 718 ConflictInMappingEntry")
    }

    @Test func namedConstants() {
        #expect(UPnPError.invalidAction == 401)
        #expect(UPnPError.invalidArgs == 402)
        #expect(UPnPError.actionFailed == 501)
        #expect(UPnPError.actionNotAuthorized == 606)
        #expect(UPnPError.specifiedArrayIndexInvalid == 713)
        #expect(UPnPError.noSuchEntryInArray == 714)
        #expect(UPnPError.conflictInMappingEntry == 718)
        #expect(UPnPError.onlyPermanentLeasesSupported == 725)
        #expect(UPnPError.portMappingNotFound == 730)
        #expect(UPnPError(code: UPnPError.portMappingNotFound).name == "PortMappingNotFound")
    }

    @Test("Codes the specifications do not name have no name", arguments: [0, 400, 500, 700, 717, 719, 723, 734, 799, 899, 999])
    func unnamed(code: Int) {
        #expect(UPnPError(code: code).name == nil)
        #expect(UPnPError(code: code).description == "UPnP error \(code)")
    }
}
