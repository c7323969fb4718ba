// lab-probe: drives the IGD library from inside a lab namespace, for the lab tests.
// Not installed, not for users: the tests run it with `ip netns exec`.
//
//   lab-probe add URL EXT PROTO CLIENT INT LEASE DESCRIPTION
//   lab-probe delete URL EXT PROTO
//   lab-probe get URL EXT PROTO          prints the entry as JSON
//   lab-probe walk URL                   the table read with GetGenericPortMappingEntry, as JSON
//   lab-probe add-any URL EXT PROTO CLIENT INT LEASE DESCRIPTION   (IGDv2) prints the port granted
//   lab-probe delete-range URL START END PROTO                      (IGDv2)
import Foundation
import IGDClient
import IGDProtocol

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("lab-probe: \(message)\n".utf8))
    exit(1)
}

func port(_ text: String) -> UInt16 {
    guard let value = UInt16(text), value > 0 else { fail("bad port \(text)") }
    return value
}

func proto(_ text: String) -> TransportProtocol {
    guard let value = TransportProtocol(caseInsensitive: text) else { fail("bad protocol \(text)") }
    return value
}

func printJSON(_ value: some Encodable) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    print(String(decoding: try! encoder.encode(value), as: UTF8.self))
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 2 else { fail("usage: lab-probe add|add-any|delete|delete-range|get|walk URL ...") }
let client = GatewayClient()
do {
    let gateway = try await client.describe(try GatewayURL(parsing: arguments[1]), probe: .whenChoosing)
    let service = gateway.service
    switch (arguments[0], arguments.count) {
    case ("add", 8):
        let entry = PortMappingEntry(
            externalPort: port(arguments[2]), protocol: proto(arguments[3]), internalPort: port(arguments[5]),
            internalClient: arguments[4], description: arguments[7], leaseDuration: UInt32(arguments[6]) ?? 0
        )
        try await client.perform(Actions.AddPortMapping(entry), on: service)
    case ("add-any", 8):
        let entry = PortMappingEntry(
            externalPort: port(arguments[2]), protocol: proto(arguments[3]), internalPort: port(arguments[5]),
            internalClient: arguments[4], description: arguments[7], leaseDuration: UInt32(arguments[6]) ?? 0
        )
        print(try await client.perform(Actions.AddAnyPortMapping(entry), on: service))
    case ("delete-range", 5):
        try await client.perform(Actions.DeletePortMappingRange(startPort: port(arguments[2]), endPort: port(arguments[3]), protocol: proto(arguments[4]), manage: true), on: service)
    case ("delete", 4):
        try await client.perform(Actions.DeletePortMapping(externalPort: port(arguments[2]), protocol: proto(arguments[3])), on: service)
    case ("get", 4):
        printJSON(try await client.perform(Actions.GetSpecificPortMappingEntry(externalPort: port(arguments[2]), protocol: proto(arguments[3])), on: service))
    case ("walk", 2):
        printJSON(try await client.genericEntryWalk(on: service).entries)
    default:
        fail("usage: lab-probe add|add-any|delete|delete-range|get|walk URL ...")
    }
} catch {
    fail("\(error)")
}
