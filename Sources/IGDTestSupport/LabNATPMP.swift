import Foundation

/// What Debian's `natpmpc` (the reference NAT-PMP client, libnatpmp's test program) reported,
/// read from its output. Every field is nil when natpmpc did not print it as expected.
public struct NATPMPCReply: Sendable, Equatable {
    /// A mapping as natpmpc prints it: "Mapped public port 9191 protocol TCP to local port 9191
    /// liftime 3600" (sic). A delete (lifetime 0) prints public port 0 and lifetime 0.
    public struct Mapping: Sendable, Equatable {
        public var publicPort: UInt16
        /// "TCP" or "UDP".
        public var `protocol`: String
        public var privatePort: UInt16
        /// The lifetime the server granted, in seconds.
        public var lifetime: UInt32

        public init(publicPort: UInt16, protocol: String, privatePort: UInt16, lifetime: UInt32) {
            self.publicPort = publicPort
            self.protocol = `protocol`
            self.privatePort = privatePort
            self.lifetime = lifetime
        }
    }

    /// natpmpc's exit status (0: every request was answered with success).
    public var status: Int32
    /// The external address from the public address answer.
    public var publicAddress: String?
    /// The server's epoch (seconds since its start of epoch) in the last answer.
    public var epoch: UInt32?
    /// The mapping answer, when a mapping was asked for.
    public var mapping: Mapping?
    /// Everything natpmpc printed, for diagnosing a failed test.
    public var output: String

    /// Reads natpmpc's output. Lines it does not recognise are ignored.
    public static func parse(_ result: ProcessResult) -> NATPMPCReply {
        var reply = NATPMPCReply(status: result.status, output: result.stdout + result.stderr)
        let address = /^Public IP address : ([0-9]{1,3}(?:\.[0-9]{1,3}){3})$/
        let epoch = /^epoch = ([0-9]{1,10})$/
        let mapped = /^Mapped public port ([0-9]{1,5}) protocol (TCP|UDP) to local port ([0-9]{1,5}) (?:liftime|lifetime) ([0-9]{1,10})$/
        for line in result.stdout.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if let m = line.wholeMatch(of: address) {
                reply.publicAddress = String(m.1)
            } else if let m = line.wholeMatch(of: epoch) {
                reply.epoch = UInt32(m.1)
            } else if let m = line.wholeMatch(of: mapped),
                      let publicPort = UInt16(m.1), let privatePort = UInt16(m.3), let lifetime = UInt32(m.4) {
                reply.mapping = Mapping(publicPort: publicPort, protocol: String(m.2), privatePort: privatePort, lifetime: lifetime)
            }
        }
        return reply
    }
}

/// One rule of miniupnpd's nat chain (`prerouting_miniupnpd`): what reaches the WAN address on
/// `externalPort` goes to `internalClient:internalPort`. Whatever protocol made the mapping
/// (UPnP, NAT-PMP, PCP), this is where it takes effect.
public struct LabForward: Sendable, Equatable {
    /// "TCP" or "UDP".
    public var `protocol`: String
    public var externalPort: UInt16
    public var internalClient: String
    public var internalPort: UInt16

    public init(protocol: String, externalPort: UInt16, internalClient: String, internalPort: UInt16) {
        self.protocol = `protocol`
        self.externalPort = externalPort
        self.internalClient = internalClient
        self.internalPort = internalPort
    }

    /// Reads `nft list chain inet filter prerouting_miniupnpd`, whose rules look like
    /// `iif "wan0" @nh,72,8 0x6 th dport 9191 dnat ip to 192.168.77.2:9191`. Other lines are ignored.
    public static func parse(_ nftOutput: String) -> [LabForward] {
        let rule = /@nh,72,8 0x([0-9a-f]{1,2}) th dport ([0-9]{1,5}) dnat ip to ([0-9]{1,3}(?:\.[0-9]{1,3}){3}):([0-9]{1,5})/
        return nftOutput.split(separator: "\n").compactMap { line in
            guard let m = String(line).firstMatch(of: rule),
                  let externalPort = UInt16(m.2), let internalPort = UInt16(m.4) else { return nil }
            let proto: String
            switch m.1 {
            case "6": proto = "TCP"
            case "11": proto = "UDP"
            default: proto = "IP protocol 0x\(m.1)"
            }
            return LabForward(protocol: proto, externalPort: externalPort, internalClient: String(m.3), internalPort: internalPort)
        }
    }
}

extension Lab {
    /// Runs Debian's `natpmpc -g 192.168.77.1 ARGUMENTS…` on the LAN client. natpmpc retries an
    /// unanswered request for about two minutes before it gives up, so ask only a gateway whose
    /// profile serves NAT-PMP (``LabProfile/servesNATPMP``).
    public func natpmpc(_ arguments: [String], timeout: Duration = .seconds(60)) async throws -> NATPMPCReply {
        NATPMPCReply.parse(try await run(on: .lan, ["natpmpc", "-g", Self.lanGateway] + arguments, timeout: timeout))
    }

    /// Asks the gateway for its external address over NAT-PMP.
    public func natpmpPublicAddress() async throws -> NATPMPCReply {
        try await natpmpc([])
    }

    /// Asks the gateway over NAT-PMP to map `publicPort` to the LAN client's `privatePort` for
    /// `lifetime` seconds; a lifetime of 0 deletes the mapping of `privatePort`.
    public func natpmpMap(publicPort: UInt16, privatePort: UInt16, protocol: String, lifetime: UInt32) async throws -> NATPMPCReply {
        try await natpmpc(["-a", "\(publicPort)", "\(privatePort)", `protocol`.lowercased(), "\(lifetime)"])
    }

    /// The rules of miniupnpd's nat chain on the gateway: every mapping in effect, whichever
    /// protocol made it.
    public func forwards() async throws -> [LabForward] {
        let result = try await run(on: .gateway, ["nft", "list", "chain", "inet", "filter", "prerouting_miniupnpd"], timeout: .seconds(30))
        return LabForward.parse(try result.check(["nft", "list", "chain", "inet", "filter", "prerouting_miniupnpd"]).stdout)
    }
}
