import Foundation

/// Reads files from Tests/Fixtures, found from this source file's own path so the tests
/// run from any working directory.
enum FixtureLoader {
    /// Tests/Fixtures, next to this file's folder.
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()   // IGDProtocolTests
        .deletingLastPathComponent()   // Tests
        .appendingPathComponent("Fixtures", isDirectory: true)

    struct Missing: Error, CustomStringConvertible {
        let path: String
        var description: String { "fixture \(path) not found under \(FixtureLoader.root.path)" }
    }

    /// The bytes of `path`, relative to Tests/Fixtures ("ntt-adsl-modem-sv3/DeviceDescription.xml").
    static func bytes(_ path: String) throws -> [UInt8] {
        let url = root.appendingPathComponent(path)
        guard FileManager.default.fileExists(atPath: url.path) else { throw Missing(path: path) }
        return [UInt8](try Data(contentsOf: url))
    }

    /// The file decoded as UTF-8.
    static func string(_ path: String) throws -> String {
        String(decoding: try bytes(path), as: UTF8.self)
    }
}

/// The fixture files the tests use, by what they are.
enum Fixture {
    static let nttDescription = "ntt-adsl-modem-sv3/DeviceDescription.xml"
    static let miniupnpdV2 = "miniupnpd-2.3.1-igdv2/rootDesc.xml"
    static let miniupnpdV1 = "miniupnpd-2.3.1-igdv1/rootDesc.xml"
    static let noURLBaseRelative = "synthetic/no-urlbase-relative.xml"
    static let urlBaseOtherHost = "synthetic/urlbase-other-host.xml"
    static let controlURLOtherHost = "synthetic/control-url-other-host.xml"
    static let billionLaughs = "synthetic/billion-laughs.xml"
    static let doctypeLowercase = "synthetic/doctype-lowercase.xml"
    static let externalEntity = "synthetic/external-entity.xml"
    static let entityWithoutDoctype = "synthetic/entity-without-doctype.xml"
    static let deepNesting40 = "synthetic/deep-nesting-40.xml"
    static let listOfPortMappingsResponse = "synthetic/miniupnpd-2.3.1-GetListOfPortMappings-response.xml"
    static let fault718 = "synthetic/miniupnpd-2.3.1-fault-718.xml"
    static let nttGenericEntryResponse = "synthetic/ntt-adsl-modem-sv3-GetGenericPortMappingEntry-response.xml"
}

/// SOAP bodies in the shape miniupnpd 2.3.1 answers with, built from plain values.
enum Envelope {
    /// A `<u:ActionResponse>` envelope; `arguments` values are inserted as given (escape them yourself).
    static func response(action: String, serviceType: String = WANServiceType.ip1, arguments: [(String, String)]) -> [UInt8] {
        var body = "<?xml version=\"1.0\"?>\r\n"
        body += "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\">"
        body += "<s:Body><u:\(action)Response xmlns:u=\"\(serviceType)\">"
        for (name, value) in arguments { body += "<\(name)>\(value)</\(name)>" }
        body += "</u:\(action)Response></s:Body></s:Envelope>\r\n"
        return Array(body.utf8)
    }

    /// A UPnP fault envelope (UDA 1.1 §3.2.2), as sent with HTTP 500.
    static func fault(code: String, description: String? = nil) -> [UInt8] {
        var body = "<?xml version=\"1.0\"?>\r\n"
        body += "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\">"
        body += "<s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring>"
        body += "<detail><UPnPError xmlns=\"urn:schemas-upnp-org:control-1-0\"><errorCode>\(code)</errorCode>"
        if let description { body += "<errorDescription>\(description)</errorDescription>" }
        body += "</UPnPError></detail></s:Fault></s:Body></s:Envelope>\r\n"
        return Array(body.utf8)
    }

    static func fault(code: Int, description: String? = nil) -> [UInt8] {
        fault(code: String(code), description: description)
    }
}

enum WANServiceType {
    static let ip2 = "urn:schemas-upnp-org:service:WANIPConnection:2"
    static let ip1 = "urn:schemas-upnp-org:service:WANIPConnection:1"
    static let ppp1 = "urn:schemas-upnp-org:service:WANPPPConnection:1"
}
