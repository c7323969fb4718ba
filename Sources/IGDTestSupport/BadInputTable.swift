import IGDClient
import IGDProtocol
import PortKeeper

/// The bad-input table (issue 7 §5, issue 8 §6): command lines portkeeper must refuse in one
/// line, leaving the registry as it was, with a piece of what each refusal says. Every case is
/// checked in-process (PortKeeperCLITests' BadInputInProcessTests); the end-to-end samples, a
/// few per family, also run the built binary (PortKeeperProcessTests' BadInputTests).
public enum BadInputTable {
    /// A command line that must be refused, and a piece of what the refusal must say.
    public struct BadCase: Sendable {
        public var arguments: [String]
        public var expected: String
        /// Refused by ArgumentParser itself (its message has a usage block after the first line).
        public var byArgumentParser = false

        public init(arguments: [String], expected: String, byArgumentParser: Bool = false) {
            self.arguments = arguments
            self.expected = expected
            self.byArgumentParser = byArgumentParser
        }

        /// The command line as a test names it: arguments with blanks or control characters quoted.
        public var testDescription: String {
            arguments.map { $0.isEmpty || $0.contains(where: { $0.isWhitespace || $0.asciiValue.map { $0 < 32 || $0 == 127 } == true }) ? $0.debugDescription : $0 }
                .joined(separator: " ")
        }
    }

    /// Mapping keys that are not PORT/PROTO with a port 1...65535 and tcp or udp.
    public static let badKeys: [(key: String, expected: String)] = [
        ("0/tcp", "external port '0' is not a number from 1 to 65535"),
        ("65536/tcp", "external port '65536' is not a number from 1 to 65535"),
        ("abc/tcp", "external port 'abc' is not a number from 1 to 65535"),
        ("/tcp", "external port '' is not a number from 1 to 65535"),
        ("", "'' is not PORT/PROTO"),
        ("0", "'0' is not PORT/PROTO"),
        ("65536", "'65536' is not PORT/PROTO"),
        ("abc", "'abc' is not PORT/PROTO"),
        ("80/sctp", "protocol 'sctp' is neither tcp nor udp"),
        ("80", "'80' is not PORT/PROTO"),
        ("80/tcp/x", "'80/tcp/x' is not PORT/PROTO"),
    ]

    public static let cases: [BadCase] = {
        var cases: [BadCase] = []
        for (key, expected) in badKeys {
            cases.append(BadCase(arguments: ["add", key], expected: expected))
            cases.append(BadCase(arguments: ["remove", key], expected: expected))
        }
        cases.append(BadCase(arguments: ["add", "0/tcp", "--no-apply"], expected: "external port '0'"))
        cases.append(BadCase(arguments: ["remove", "0/tcp", "--no-apply"], expected: "external port '0'"))
        // Removing what is not declared.
        cases.append(BadCase(arguments: ["remove", "9999/tcp"], expected: "9999/tcp is not declared"))

        // --to: a host that is not a canonical IPv4 address, or a bad internal port.
        for host in ["192.168.001.5", "256.1.1.1", "host.local", "1.2.3", "1.2.3.4.5", " 1.2.3.4"] {
            cases.append(BadCase(arguments: ["add", "8080/tcp", "--to", host], expected: "'\(host)' is not an IPv4 address written canonically"))
        }
        cases.append(BadCase(arguments: ["add", "8080/tcp", "--to", "192.168.001.5:80"], expected: "'192.168.001.5' is not an IPv4 address written canonically"))
        for (to, port) in [(":0", "0"), (":70000", "70000"), (":65536", "65536"), (":abc", "abc"), ("192.168.1.5:", ""), ("192.168.1.5:0", "0")] {
            cases.append(BadCase(arguments: ["add", "8080/tcp", "--to", to], expected: "internal port '\(port)' is not a number from 1 to 65535"))
        }

        // --to a host that cannot be a mapping's client (issue 7 §3b), with or without the
        // flag that accepts a host on no local subnet.
        for flag in [[], ["--allow-remote-client"]] {
            for (host, why) in [("0.0.0.0", "is an unspecified address"), ("0.1.2.3", "is an unspecified address"),
                                ("255.255.255.255", "is the limited broadcast address"), ("224.0.0.1", "is a multicast address"),
                                ("239.255.255.250", "is a multicast address"), ("127.0.0.1", "is a loopback address"),
                                ("127.1.2.3", "is a loopback address"), ("240.0.0.1", "is in the reserved range")] {
                cases.append(BadCase(arguments: ["add", "8080/tcp", "--to", host + ":80"] + flag, expected: "--to \(host) \(why)"))
            }
            // The directed broadcast and network address of this machine's own subnet.
            if let lan = localLAN {
                cases.append(BadCase(arguments: ["add", "8080/tcp", "--to", lan.broadcast.description] + flag,
                                     expected: "--to \(lan.broadcast) is the broadcast address of the local subnet \(lan)"))
                cases.append(BadCase(arguments: ["add", "8080/tcp", "--to", lan.network.description] + flag,
                                     expected: "--to \(lan.network) is the network address of the local subnet \(lan)"))
            }
        }
        // A host on none of this machine's subnets, unless the user says so; also with
        // --no-apply: nothing is stored.
        cases.append(BadCase(arguments: ["add", "8080/tcp", "--to", remoteHost.description], expected: "--to \(remoteHost) is on none of this machine's subnets"))
        cases.append(BadCase(arguments: ["add", "8080/tcp", "--to", "\(remoteHost):80", "--no-apply"], expected: "add --allow-remote-client"))

        // --lease outside 0...604800, written either way.
        cases.append(BadCase(arguments: ["add", "8080/tcp", "--lease=-1"], expected: "lease -1 is outside 0...604800 seconds"))
        cases.append(BadCase(arguments: ["add", "8080/tcp", "--lease", "604801"], expected: "lease 604801 is outside 0...604800 seconds"))
        cases.append(BadCase(arguments: ["add", "8080/tcp", "--lease", "-1"], expected: "lease -1 is outside 0...604800 seconds"))
        cases.append(BadCase(arguments: ["add", "8080/tcp", "--lease", "forever"], expected: "forever", byArgumentParser: true))

        // --description with a control character, or longer than the limit (in UTF-8 bytes).
        for text in ["a\u{1}b", "a\nb", "line\r", "tab\there", "a\u{7F}b", "a\u{85}b", "\u{1B}[31mred"] {
            cases.append(BadCase(arguments: ["add", "8080/tcp", "--description", text], expected: "the description contains a control character"))
        }
        cases.append(BadCase(arguments: ["add", "8080/tcp", "--description", "a\u{1}b"], expected: "control character (U+0001)"))
        // Noncharacters XML 1.0 cannot carry: refused before anything is stored or sent.
        for (text, code) in [("a\u{FFFE}b", "FFFE"), ("\u{FFFF}", "FFFF"), ("web \u{FFFE}", "FFFE")] {
            cases.append(BadCase(arguments: ["add", "8080/tcp", "--description", text], expected: "the description contains U+\(code), which XML 1.0 cannot carry"))
            cases.append(BadCase(arguments: ["add", "8080/tcp", "--no-apply", "--description", text], expected: "U+\(code)"))
        }
        let limit = DeclarationInput.maxDescriptionBytes
        cases.append(BadCase(arguments: ["add", "8080/tcp", "--description", String(repeating: "x", count: limit + 1)],
                             expected: "the description is \(limit + 1) bytes, over the \(limit)-byte limit"))
        // Fewer characters than the limit, more bytes.
        let accented = String(repeating: "é", count: limit / 2 + 1)
        cases.append(BadCase(arguments: ["add", "8080/tcp", "--description", accented],
                             expected: "the description is \(accented.utf8.count) bytes, over the \(limit)-byte limit"))

        // --deadline outside 1...86400 seconds, or not a number.
        cases.append(BadCase(arguments: ["reconcile", "--deadline", "0"], expected: "--deadline must be between 1 and 86400 seconds", byArgumentParser: true))
        cases.append(BadCase(arguments: ["add", "8080/tcp", "--deadline", "100000"], expected: "--deadline must be between 1 and 86400 seconds", byArgumentParser: true))
        cases.append(BadCase(arguments: ["remove", "9000/tcp", "--deadline", "soon"], expected: "soon", byArgumentParser: true))
        // --request-timeout outside 1...120 seconds.
        cases.append(BadCase(arguments: ["reconcile", "--request-timeout", "0.5"], expected: "--request-timeout must be between 1 and 120 seconds", byArgumentParser: true))
        cases.append(BadCase(arguments: ["list", "--request-timeout", "121"], expected: "--request-timeout must be between 1 and 120 seconds", byArgumentParser: true))

        // Rollback to a revision that does not exist, or is not a number.
        cases.append(BadCase(arguments: ["rollback", "999999"], expected: "there is no revision 999999"))
        cases.append(BadCase(arguments: ["rollback", "999999", "--no-apply"], expected: "there is no revision 999999"))
        cases.append(BadCase(arguments: ["rollback", "0"], expected: "there is no revision 0"))
        cases.append(BadCase(arguments: ["rollback", "abc"], expected: "abc", byArgumentParser: true))
        cases.append(BadCase(arguments: ["rollback", "1.5"], expected: "1.5", byArgumentParser: true))

        // A gateway the registry does not know (one is known): an error, never a reason to search.
        for command in [["add", "8080/tcp"], ["add", "8080/tcp", "--no-apply"], ["remove", "9000/tcp"], ["plan"], ["reconcile"], ["history"]] {
            cases.append(BadCase(arguments: command + ["--gateway", "uuid:00000000-dead-beef-0000-000000000000"], expected: "no known gateway matches"))
            cases.append(BadCase(arguments: command + ["--gateway", "No Such Router"], expected: "no known gateway matches 'No Such Router'"))
        }

        // A declared key with another target: refused, saying it is declared.
        cases.append(BadCase(arguments: ["add", "9000/tcp", "--to", "192.168.1.77", "--allow-remote-client"], expected: "9000/tcp is already declared for this host:9000"))
        cases.append(BadCase(arguments: ["add", "9000/tcp", "--to", ":9009", "--no-apply"], expected: "9000/tcp is already declared for this host:9000"))
        cases.append(BadCase(arguments: ["add", "9001/udp", "--to", "192.168.1.50:9012", "--allow-remote-client"], expected: "9001/udp is already declared for 192.168.1.50:9011"))
        cases.append(BadCase(arguments: ["add", "9001/UDP", "--to", "192.168.1.51:9011", "--allow-remote-client", "--description", "game"], expected: "9001/udp is already declared for 192.168.1.50:9011"))
        cases.append(BadCase(arguments: ["add", "9001/udp", "--description", "game"], expected: "9001/udp is already declared for 192.168.1.50:9011"))
        return cases
    }()

    /// The cases also run end to end (the built binary against a fake gateway, several
    /// processes each): a few per family. Every case of ``cases`` is checked in-process
    /// (BadInputInProcessTests); these prove that the commands make those checks, print the one
    /// line on stderr and leave `mappings --json` and `history --json` as they were.
    public static let endToEndSamples: [[String]] = {
        var samples: [[String]] = [
            // Mapping keys; removing what is not declared.
            ["add", "0/tcp"], ["remove", "80"], ["add", "0/tcp", "--no-apply"], ["remove", "9999/tcp"],
            // --to: the host, the internal port, a host that cannot be a client, one off the subnets.
            ["add", "8080/tcp", "--to", "192.168.001.5"], ["add", "8080/tcp", "--to", ":70000"],
            ["add", "8080/tcp", "--to", "127.0.0.1:80"], ["add", "8080/tcp", "--to", "224.0.0.1:80", "--allow-remote-client"],
            ["add", "8080/tcp", "--to", remoteHost.description], ["add", "8080/tcp", "--to", "\(remoteHost):80", "--no-apply"],
            // --lease, by portkeeper and by ArgumentParser.
            ["add", "8080/tcp", "--lease=-1"], ["add", "8080/tcp", "--lease", "forever"],
            // --description: a control character, a noncharacter without applying, too long.
            ["add", "8080/tcp", "--description", "a\nb"], ["add", "8080/tcp", "--no-apply", "--description", "a\u{FFFE}b"],
            ["add", "8080/tcp", "--description", String(repeating: "x", count: DeclarationInput.maxDescriptionBytes + 1)],
            // Options ArgumentParser's validate() refuses.
            ["reconcile", "--deadline", "0"], ["list", "--request-timeout", "121"],
            // Revisions.
            ["rollback", "999999"], ["rollback", "abc"],
            // Gateway references the registry does not know.
            ["plan", "--gateway", "uuid:00000000-dead-beef-0000-000000000000"], ["remove", "9000/tcp", "--gateway", "No Such Router"],
            // A declared key with another target.
            ["add", "9000/tcp", "--to", "192.168.1.77", "--allow-remote-client"], ["add", "9001/udp", "--description", "game"],
        ]
        if let lan = localLAN { samples.append(["add", "8080/tcp", "--to", lan.broadcast.description]) }
        return samples
    }()

    /// The cases run end to end.
    public static let endToEnd = cases.filter { endToEndSamples.contains($0.arguments) }

    /// A documentation address (RFC 5737) on none of this machine's subnets (some test machines
    /// do sit on a TEST-NET).
    public static let remoteHost: IPv4Address = {
        let subnets = LocalSubnets.current()
        return [IPv4Address(198, 51, 100, 9), IPv4Address(203, 0, 113, 9), IPv4Address(192, 0, 2, 9)]
            .first { address in !subnets.contains { $0.contains(address) } }!
    }()

    /// This machine's first non-loopback subnet with a broadcast address, if any.
    public static let localLAN: IPv4Subnet? = LocalSubnets.current().first { $0.hasBroadcast && !$0.address.isIn(IPv4Address(127, 0, 0, 0), prefixLength: 8) }
}
