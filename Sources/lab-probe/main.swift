// lab-probe: drives the IGD library from inside a lab namespace, for the lab tests.
// Not installed, not for users: the tests run it with `ip netns exec`.
//
//   lab-probe add URL EXT PROTO CLIENT INT LEASE DESCRIPTION
//   lab-probe delete URL EXT PROTO
//   lab-probe get URL EXT PROTO          prints the entry as JSON
//   lab-probe walk URL                   the table read with GetGenericPortMappingEntry, as JSON
//   lab-probe add-any URL EXT PROTO CLIENT INT LEASE DESCRIPTION   (IGDv2) prints the port granted
//   lab-probe delete-range URL START END PROTO                      (IGDv2)
//
// NAT-PMP and PCP (PortControlClient), each printing the answer as JSON:
//   lab-probe pmp-address GATEWAY
//   lab-probe pmp-map GATEWAY PROTO INT EXT LIFETIME           (lifetime 0 deletes)
//   lab-probe pcp-map GATEWAY NONCE PROTO INT EXT LIFETIME     (NONCE: 24 hex digits; lifetime 0 deletes)
//   lab-probe pcp-announce GATEWAY
//
// The registry benchmark (scripts/bench/portcontrol.sh):
//   lab-probe renewals DB COUNT        COUNT in-sync reconciles, in one process, of the one gateway
//                                      the registry at DB knows (each renews every mapping once);
//                                      prints the renewals the registry recorded
import Foundation
import MappingRegistry
import PortKeeper
import IGDClient
import IGDProtocol
import PCPProtocol

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

/// What the NAT-PMP/PCP commands print: the answer's fields that the lab tests compare.
struct PortControlOutput: Encodable {
    var natPMPOnly = false
    var result: String?
    var epoch: UInt32?
    var externalAddress: String?
    var internalPort: UInt16?
    var externalPort: UInt16?
    var lifetime: UInt32?
    var clientAddress: String
    var requestsSent: Int
}

func output(_ reply: PortControlReply<PCP.Answer>) -> PortControlOutput {
    switch reply.answer {
    case .natPMPUnsupportedVersion(let epoch):
        return PortControlOutput(natPMPOnly: true, epoch: epoch, clientAddress: reply.clientAddress.description, requestsSent: reply.requestsSent)
    case .pcp(let response):
        return PortControlOutput(
            result: response.result.name ?? "\(response.result.code)", epoch: response.epochTime,
            externalAddress: response.map?.assignedExternalAddress?.description, internalPort: response.map?.internalPort,
            externalPort: response.map?.assignedExternalPort, lifetime: response.lifetime,
            clientAddress: reply.clientAddress.description, requestsSent: reply.requestsSent
        )
    }
}

/// `renewals DB COUNT`: reconciles the registry's one gateway COUNT times in this process.
func renewals(_ arguments: [String]) async throws -> Bool {
    guard arguments.first == "renewals" else { return false }
    guard arguments.count == 3, let count = Int(arguments[2]), count > 0 else { fail("usage: lab-probe renewals DB COUNT") }
    let registry = try Registry(path: arguments[1])
    let keeper = Keeper(registry: registry, command: "lab-probe renewals")
    let record = try registry.resolveGateway(nil)
    var renewed = 0
    for _ in 0..<count {
        let report = try await keeper.reconcile(record, options: Planner.Options())
        guard report.inSync, report.revision == nil else { fail("a reconcile was not in sync or made a revision: \(report.changes)") }
        renewed += try registry.portControlMappings(gatewayID: record.id).count
    }
    print(renewed)
    return true
}

/// Runs a NAT-PMP/PCP command; false when `arguments` names none.
func portControl(_ arguments: [String]) async throws -> Bool {
    guard let command = arguments.first, ["pmp-address", "pmp-map", "pcp-map", "pcp-announce"].contains(command) else { return false }
    guard arguments.count >= 2, let gateway = IPv4Address(arguments[1]) else { fail("\(command) needs the gateway's IPv4 address") }
    let client = PortControlClient()
    let deadline = Deadline(command, in: .seconds(10))
    switch (command, arguments.count) {
    case ("pmp-address", 2):
        let reply = try await client.natPMPExternalAddress(gateway: gateway, deadline: deadline)
        printJSON(PortControlOutput(
            result: reply.answer.result.name ?? "\(reply.answer.result.code)", epoch: reply.answer.secondsSinceStartOfEpoch,
            externalAddress: reply.answer.externalAddress?.description, clientAddress: reply.clientAddress.description, requestsSent: reply.requestsSent
        ))
    case ("pmp-map", 6):
        let request = NATPMP.MapRequest(protocol: proto(arguments[2]), internalPort: port(arguments[3]), suggestedExternalPort: UInt16(arguments[4]) ?? 0, lifetime: UInt32(arguments[5]) ?? 0)
        let reply = try await client.natPMPMap(request, gateway: gateway, deadline: deadline)
        printJSON(PortControlOutput(
            result: reply.answer.result.name ?? "\(reply.answer.result.code)", epoch: reply.answer.secondsSinceStartOfEpoch,
            internalPort: reply.answer.mapping?.internalPort, externalPort: reply.answer.mapping?.externalPort, lifetime: reply.answer.mapping?.lifetime,
            clientAddress: reply.clientAddress.description, requestsSent: reply.requestsSent
        ))
    case ("pcp-map", 7):
        guard let nonce = PCP.Nonce(hex: arguments[2]) else { fail("bad nonce \(arguments[2])") }
        let reply = try await client.pcpMap(
            nonce: nonce, protocol: proto(arguments[3]), internalPort: port(arguments[4]), suggestedExternalPort: UInt16(arguments[5]) ?? 0,
            lifetime: UInt32(arguments[6]) ?? 0, gateway: gateway, deadline: deadline
        )
        printJSON(output(reply))
    case ("pcp-announce", 2):
        printJSON(output(try await client.pcpAnnounce(gateway: gateway, deadline: deadline)))
    default:
        fail("usage: lab-probe pmp-address|pmp-map|pcp-map|pcp-announce GATEWAY ...")
    }
    return true
}

let arguments = Array(CommandLine.arguments.dropFirst())
do {
    if try await portControl(arguments) { exit(0) }
    if try await renewals(arguments) { exit(0) }
} catch {
    fail("\(error)")
}
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
