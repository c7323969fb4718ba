import Foundation
import IGDClient
import IGDProtocol
import MappingRegistry
@testable import PortKeeper

/// A gateway held in memory, for in-process tests of reconcile, plan and rollback: no
/// sockets, no root. It behaves as IGD gateways do where reconcile cares (718 when a port is
/// held by another client, 714 when deleting what is not there, 725 to a lease when it takes
/// permanent leases only), takes faults to inject, and remembers what it was asked.
final class InMemoryGateway: MappingGateway, @unchecked Sendable {
    /// What a request can meet instead of a plain answer.
    enum Fault: Sendable, Equatable {
        /// The device answers this UPnP fault and does nothing.
        case upnp(Int)
        /// No answer in time (a timeout: the gateway is taken to have stopped answering);
        /// `applied`: it acted all the same.
        case timeout(applied: Bool)
        /// An answer that breaks off (the connection closed early): the outcome is unknown, but
        /// the gateway still answers; `applied`: it acted.
        case brokenAnswer(applied: Bool)
    }

    enum Request: String, Sendable { case list, add, delete }

    private let lock = NSLock()
    private var table: [MappingKey: PortMappingEntry] = [:]
    private var faults: [(request: Request, port: UInt16?, fault: Fault)] = []
    private var log: [String] = []
    /// Whether it can list its table (UPnP IGD can; NAT-PMP and PCP cannot).
    let canList: Bool
    /// Answers 725 OnlyPermanentLeasesSupported to any lease but 0.
    let permanentLeasesOnly: Bool
    let host: IPv4Address
    let external: ExternalAddress

    init(_ entries: [PortMappingEntry] = [], canList: Bool = true, permanentLeasesOnly: Bool = false,
         host: IPv4Address = InMemoryGateway.host, external: String = "203.0.113.7") {
        for entry in entries { table[MappingKey(entry)] = entry }
        self.canList = canList
        self.permanentLeasesOnly = permanentLeasesOnly
        self.host = host
        self.external = ExternalAddress(reported: external)
    }

    /// This host's address as the in-memory gateway sees it, unless told otherwise.
    static let host = IPv4Address(192, 168, 1, 10)

    /// The table now, ordered by key.
    var mappings: [PortMappingEntry] {
        lock.withLock { table.values.sorted { MappingKey($0) < MappingKey($1) } }
    }

    /// What it was asked, in order: "list", "add 7001", "delete 7001".
    var requests: [String] { lock.withLock { log } }

    /// How many requests of a kind it got.
    func count(_ request: Request) -> Int { requests.filter { $0.hasPrefix(request.rawValue) }.count }

    /// The next `times` requests of that kind (for `port` only, if given) meet `fault`.
    func inject(_ fault: Fault, on request: Request, port: UInt16? = nil, times: Int = 1) {
        lock.withLock { faults += Array(repeating: (request, port, fault), count: times) }
    }

    /// Puts entries on the gateway (another program's, or what a reboot left).
    func set(_ entries: [PortMappingEntry]) {
        lock.withLock { table = Dictionary(entries.map { (MappingKey($0), $0) }, uniquingKeysWith: { a, _ in a }) }
    }

    // MARK: MappingGateway

    func localAddress() throws -> IPv4Address { host }

    func externalAddress() async throws -> ExternalAddress { external }

    func mappings() async throws -> PortMappingTable? {
        guard canList else { return nil }
        try answer(.list, port: nil) {}
        return PortMappingTable(entries: mappings, method: .listOfPortMappings)
    }

    func add(_ entry: PortMappingEntry) async throws {
        let key = MappingKey(entry)
        try answer(.add, port: entry.externalPort) {
            if let held = table[key], held.internalClient != entry.internalClient { throw UPnPError(code: UPnPError.conflictInMappingEntry) }
            if permanentLeasesOnly && entry.leaseDuration != 0 { throw UPnPError(code: UPnPError.onlyPermanentLeasesSupported) }
            table[key] = entry
        }
    }

    func delete(_ entry: PortMappingEntry) async throws {
        let key = MappingKey(entry)
        try answer(.delete, port: entry.externalPort) {
            guard table.removeValue(forKey: key) != nil else { throw UPnPError(code: UPnPError.noSuchEntryInArray) }
        }
    }

    func extendingDeadline(by extra: Duration) -> InMemoryGateway { self }

    /// Logs a request, then does `act` (under the lock) unless an injected fault says otherwise.
    private func answer(_ request: Request, port: UInt16?, _ act: () throws -> Void) throws {
        try lock.withLock {
            log.append(port.map { "\(request.rawValue) \($0)" } ?? request.rawValue)
            let index = faults.firstIndex { $0.request == request && ($0.port == nil || $0.port == port) }
            guard let index else { return try act() }
            let fault = faults.remove(at: index).fault
            let url = "http://192.0.2.1:5000/ctl"
            switch fault {
            case .upnp(let code):
                throw UPnPError(code: code)
            case .timeout(let applied):
                if applied { try act() }
                throw TransportError(.timeout, url: url, "no complete answer within 5 s")
            case .brokenAnswer(let applied):
                if applied { try act() }
                throw TransportError(.closedEarly, url: url, "connection closed before the answer was complete")
            }
        }
    }
}
