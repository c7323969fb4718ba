@testable import IGDClient
import IGDProtocol
import MappingRegistry
import PortKeeper
@testable import portkeeper
import Testing

/// Issue 8 §5: the library says what happened, the CLI says what to try. Each case is built as
/// the library builds it and must render, in-process, to the one line the CLI printed before
/// the advice moved out of the library (the old hint is written out here as it was).
@Suite("Error rendering: one line, the CLI's advice")
struct ErrorRenderingTests {
    /// A failure and the line the CLI prints for it.
    struct Case: Sendable, CustomTestStringConvertible {
        var error: PortKeeperError
        var line: String
        var testDescription: String { "\(error.kind.code): \(line.prefix(60))" }

        /// The library's message followed by the advice the user reads.
        init(_ error: PortKeeperError, _ advice: String?) {
            self.error = error
            self.line = advice.map { "\(error.message); \($0)" } ?? error.message
        }
    }

    static let lan = IPv4Subnet(address: IPv4Address(192, 168, 1, 10), netmask: IPv4Address(255, 255, 255, 0))
    static let url = "http://192.168.1.1:5000/ctl/IPConn"

    static func refusal(_ body: () throws -> Void) -> PortKeeperError {
        do {
            try body()
        } catch let error as PortKeeperError {
            return error
        } catch {
            return PortKeeperError(.unexpected, "not a PortKeeperError: \(error)")
        }
        return PortKeeperError(.unexpected, "accepted")
    }

    static func client(_ address: IPv4Address) -> PortKeeperError {
        refusal { try DeclarationInput.client(address, localSubnets: [lan], allowRemote: false) }
    }

    static func explain(_ error: any Error) -> PortKeeperError {
        Failure.explain(error, doing: "AddPortMapping 8080/tcp on Router")
    }

    static let web = MappingKey(protocol: .tcp, externalPort: 8080)

    static let cases: [Case] = [
        // invalid-input
        Case(client(IPv4Address(10, 9, 9, 9)), "check the address; if the machine is reachable through the router all the same, add --allow-remote-client"),
        Case(client(IPv4Address(0, 0, 0, 0)), "leave out the host (--to :PORT) for this machine, or give another machine's LAN address"),
        Case(client(IPv4Address(127, 0, 0, 1)), "leave out the host (--to :PORT) for this machine"),
        Case(client(IPv4Address(224, 0, 0, 1)), "give the LAN address of the machine the traffic should reach"),
        Case(refusal { _ = try GatewayReference(parsing: "http://router.local:5000/rootDesc.xml") },
             "give the description URL as http://IPv4:PORT/path, as `portkeeper discover` prints it"),
        Case(refusal { _ = try DeclarationInput.key("8080") }, "write it like 8080/tcp or 53/udp"),
        Case(ErrorRendering.locationNotURL("router"), "give the description URL, e.g. http://192.168.1.1:5000/rootDesc.xml"),
        // not-found
        Case(PortKeeperError(.notFound, "8080/tcp is not declared", context: .notDeclared), "`portkeeper mappings` lists what is"),
        Case(PortKeeperError(.notFound, "revision 9 concerns no gateway", context: .revisionWithoutGateway),
             "`portkeeper history` lists revisions and their gateways"),
        Case(PortKeeperError(.notFound, "a device answered but is not a usable gateway: x", context: .noUsableGateway),
             "check the router's UPnP settings, or give another description URL with --location"),
        Case(PortKeeperError(.notFound, "no UPnP gateway answered on any interface within 3 s", context: .noGatewayAnswered),
             "check that UPnP is enabled on the router, that no firewall here blocks UDP port 1900 replies, and that you search on the interface facing the router (--interface NAME); or give its description URL with --location"),
        // ambiguous
        Case(Inspector.several([]), "choose one with --gateway UDN (with double NAT, the one whose external address is public is the outer router)"),
        // conflict
        Case(PortKeeperError(.conflict, "8080/tcp is already declared for this host:80", context: .alreadyDeclared(web)),
             "remove it first with `portkeeper remove 8080/tcp`"),
        Case(explain(UPnPError(code: 718, deviceDescription: "ConflictInMappingEntry")),
             "another client holds this port on the router: `portkeeper plan` shows who; replace it with --force, or choose another port"),
        // gateway-unreachable
        Case(explain(TransportError(.connectionRefused, url: url, "connection refused")),
             "the gateway may have rebooted onto a new port or address: run `portkeeper discover`"),
        Case(explain(TransportError(.unreachable, url: url, "cannot connect (no route)")),
             "the gateway may have rebooted onto a new port or address: run `portkeeper discover`"),
        Case(explain(TransportError(.connectTimeout, url: url, "no connection within 2 s", limit: .seconds(2), action: "AddPortMapping")),
             "the gateway may have rebooted onto a new port or address: run `portkeeper discover`"),
        Case(PortKeeperError(.gatewayUnreachable, "Router did not answer at \(url) (connection refused) and was not found again by discovery",
                             hint: "check that the router is on and UPnP enabled, then try again"),
             "check that the router is on and UPnP enabled, then try again"),
        // gateway-timeout
        Case(explain(TransportError(.timeout, url: url, "no complete answer within 5 s", limit: .seconds(5), action: "AddPortMapping")),
             "the gateway is slow or hung; try again, or restart the router"),
        // deadline
        Case(explain(DeadlineExceeded(what: "list", length: .seconds(60), action: "GetGenericPortMappingEntry")),
             "the gateway is slow or hung; try again, give more time with --deadline SECONDS, or restart the router"),
        // gateway-refused
        Case(explain(UPnPError(code: 725)), "the router takes permanent leases only: declare the mapping with --lease 0"),
        Case(explain(UPnPError(code: 402)), "the router refused the values; check --to, the ports and --lease"),
        Case(explain(UPnPError(code: 601)), "the router refused the values; check --to, the ports and --lease"),
        Case(explain(UPnPError(code: 724)), "this router wants the internal port equal to the external one: use --to HOST:PORT with the same port"),
        Case(explain(UPnPError(code: 606)), "enable UPnP port mapping (or 'allow changes') in the router's settings"),
        Case(explain(UPnPError(code: 728)), "the router's mapping table is full: remove mappings you no longer need"),
        Case(explain(UPnPError(code: 899)), nil),
        Case(explain(UnexpectedHTTPStatus(status: 500, action: "AddPortMapping")),
             "the gateway could not do it and did not say why; try again, or restart the router"),
        // unsupported
        Case(explain(ActionUnavailable(action: "GetListOfPortMappings", service: .ipConnection1)), "this gateway does not offer it"),
        // gateway-invalid-answer
        Case(explain(TransportError(.tooLarge, url: url, "body over the 1048576-byte limit")),
             "the gateway's answer was refused as unsafe or broken; run with --verbose for details"),
        Case(explain(TransportError(.redirect, url: url, "answered HTTP 302 redirect to nowhere, which is not followed")),
             "the gateway's answer was refused as unsafe or broken; run with --verbose for details"),
        Case(explain(ProtocolViolation("no WAN connection service")),
             "the gateway's answer breaks the UPnP specification; run with --verbose for details"),
        Case(explain(InvalidPortMappingEntry(action: "GetGenericPortMappingEntry", index: 3, fields: [:], problems: ["no port"])),
             "the entry is ignored; check the router's port-forwarding page"),
        // local-network
        Case(PortKeeperError(.localNetwork, "discovery failed: no IPv4 interface with multicast", context: .discoveryFailed),
             "name the interface facing the router with --interface, or give the description URL with --location"),
        // registry
        Case(PortKeeperError(.registry, "the gateway of revision 3 is gone from the registry"), nil),
        // unexpected
        Case(explain(CancellationError()), nil),
        // a reconcile cut short keeps the kind of what stopped it
        Case(PortKeeperError(.gatewayUnreachable, "reconciling Router failed: \(url): connection refused; 2 operations were not sent", context: .reconcileInterrupted),
             "nothing more was sent to it; check the router, then run `portkeeper reconcile` again"),
    ]

    @Test("Each failure renders as the line the CLI printed before the advice moved out of the library", arguments: cases)
    func rendersTodaysLine(_ testCase: Case) {
        #expect(ErrorRendering.line(testCase.error) == testCase.line)
        #expect(ErrorRendering.line(testCase.error, doing: "ignored") == testCase.line)
        #expect(!testCase.line.contains("\n"))
    }

    @Test("Every kind has at least one case above, and the library's own text names no flag")
    func everyKindCovered() {
        let covered = Set(Self.cases.map(\.error.kind))
        #expect(covered == Set(PortKeeperError.Kind.allCases), "missing: \(Set(PortKeeperError.Kind.allCases).subtracting(covered))")
        for testCase in Self.cases where testCase.error.context != .none && testCase.error.kind != .invalidInput {
            #expect(!testCase.error.description.contains("--") && !testCase.error.description.contains("`portkeeper"), "\(testCase.error)")
        }
    }

    @Test("The kinds of failure see how they were thrown", arguments: [
        (explain(UPnPError(code: 718)), PortKeeperError.Kind.conflict),
        (explain(UPnPError(code: 606)), .gatewayRefused),
        (explain(TransportError(.connectionRefused, url: url, "connection refused")), .gatewayUnreachable),
        (explain(TransportError(.closedEarly, url: url, "connection closed")), .gatewayInvalidAnswer),
        (explain(DeadlineExceeded(what: "list", length: .seconds(1))), .deadline),
        (client(IPv4Address(127, 0, 0, 1)), .invalidInput),
        (Inspector.several([]), .ambiguous),
    ])
    func kinds(error: PortKeeperError, kind: PortKeeperError.Kind) {
        #expect(error.kind == kind)
    }

    @Test("Each kind has its own stable code, lowercase words joined by hyphens")
    func codes() {
        let codes = PortKeeperError.Kind.allCases.map(\.code)
        #expect(Set(codes).count == codes.count)
        for code in codes {
            #expect(!code.isEmpty && code.allSatisfy { $0 == "-" || ($0.isASCII && $0.isLowercase) } && !code.hasPrefix("-") && !code.hasSuffix("-"), "\(code)")
        }
        #expect(PortKeeperError.Kind.gatewayUnreachable.code == "gateway-unreachable")
        #expect(PortKeeperError.Kind.invalidInput.code == "invalid-input")
    }

    @Test("Registry failures render as the line the CLI printed before, --db and commands added by the CLI", arguments: [
        (RegistryError.notADatabase(path: "/r.db"), "/r.db is not a portkeeper registry (file is not a database); move it aside or use another --db"),
        (RegistryError.newerVersion(path: "/r.db", unknownMigration: "9999_x"),
         "/r.db was written by a newer portkeeper (migration 9999_x unknown); upgrade portkeeper or use another --db"),
        (RegistryError.readOnly(path: "/r.db"), "cannot write /r.db: read-only; make it writable or use another --db"),
        (RegistryError.cannotCreate(path: "/r.db", reason: "No such file or directory"),
         "cannot create /r.db: No such file or directory; fix the path or use another --db"),
        (RegistryError.corrupt(path: "/r.db", detail: "SQLite found a malformed page"),
         "the registry is damaged; /r.db: SQLite found a malformed page. Keep a copy of it; `sqlite3 /r.db .recover` (or `.dump`) shows what can be saved; then move it aside to start a new one, or use another --db"),
        (RegistryError(.notADatabase, "/r.db is an SQLite database of another program, not a portkeeper registry", context: .anotherFileWouldDo),
         "/r.db is an SQLite database of another program, not a portkeeper registry; use another --db"),
        (RegistryError.invalid("the registry path is empty", context: .emptyPath), "the registry path is empty; give a file with --db"),
        (RegistryError.notFound("there is no revision 7", context: .unknownRevision), "there is no revision 7; `portkeeper history` lists them"),
        (RegistryError.notFound("no gateway is known yet", context: .noGatewayKnown),
         "no gateway is known yet; run `portkeeper discover`, or name one with --gateway"),
        (RegistryError.invalid("2 gateways are known (A uuid:a, B uuid:b)", context: .severalGatewaysKnown),
         "2 gateways are known (A uuid:a, B uuid:b); choose one with --gateway"),
        (RegistryError.notFound("no known gateway matches 'x'", context: .unknownGateway), "no known gateway matches 'x'; `portkeeper gateways` lists them"),
        (RegistryError.outcomeNotRecorded(operation: "AddPortMapping 9000/tcp", cause: .readOnly(path: "/r.db")),
         "AddPortMapping 9000/tcp reached the gateway but its outcome could not be recorded: cannot write /r.db: read-only; make it writable or use another --db; then `portkeeper reconcile` finds it on the gateway and records it"),
        (RegistryError.outcomeNotRecorded(operation: "AddPortMapping 9000/tcp", cause: .diskFull(path: "/r.db")),
         "AddPortMapping 9000/tcp reached the gateway but its outcome could not be recorded: cannot write /r.db: the disk is full; free some space and try again; then `portkeeper reconcile` finds it on the gateway and records it"),
        (RegistryError.reconciling(pid: 42), "another portkeeper is reconciling this registry (pid 42); try again when it finishes"),
    ])
    func registryLines(error: RegistryError, line: String) {
        #expect(ErrorRendering.line(error) == line)
        #expect(ErrorRendering.line(error, doing: "ignored") == line)
        #expect(!error.description.contains("--db") && !error.description.contains("`portkeeper"), "\(error)")
    }
}
