import Foundation
import IGDClient
import IGDProtocol
import PortKeeper

/// Text and JSON renderings of library values. The library never prints.
enum Render {
    /// One gateway as discover found it: its UPnP description (when it answered SSDP), then
    /// what each protocol said and the one portkeeper uses.
    static func found(_ entry: Inspector.FoundGateway) -> String {
        var lines = [entry.friendlyName.isEmpty ? "(unnamed gateway)" : entry.friendlyName]
        func row(_ label: String, _ value: String) { lines.append("  " + pad(label, 14) + value) }
        if let gateway = entry.upnp {
            row("UDN", gateway.udn)
            row("model", [gateway.manufacturer, gateway.modelName, gateway.modelNumber].filter { !$0.isEmpty }.joined(separator: " "))
            row("description", gateway.descriptionURL.description)
            row("service", gateway.service.type.rawValue)
            row("control URL", gateway.service.controlURL.description)
            row("chosen as", gateway.choiceReason)
            row("external IP", externalAddress(gateway.externalAddress))
            row("connection", connection(gateway.status))
        } else {
            row("identity", entry.identity)
            row("LAN address", entry.lanAddress.description)
        }
        if let hardware = entry.hardwareAddress { row("hardware", hardware) }
        for report in entry.reports { row(report.protocol.description, protocolReport(report)) }
        if let choice = entry.choice() { row("uses", "\(choice.protocol): \(choice.reason)") }
        if let gateway = entry.upnp { lines += warnings(gateway) }
        return lines.joined(separator: "\n")
    }

    /// "answered, external IP 11.77.0.1 (public), epoch 1234 s", "answered, version 2, epoch 1234 s", "no answer"…
    static func protocolReport(_ report: ProtocolReport) -> String {
        switch report.status {
        case .noAnswer: return "no answer"
        case .notAsked: return "not asked"
        case .unsupported: return "not spoken (a NAT-PMP server refused PCP's version)"
        case .answered: break
        }
        var text = "answered"
        if report.protocol != .upnp, let result = report.result, result != "SUCCESS", result != "Success" {
            text += ", result \(result)"
        }
        if report.protocol != .pcp {
            text += ", external IP " + externalAddress(report.externalAddress)
        }
        let details = [report.version.map { "version \($0)" }, report.epoch.map { "epoch \($0) s" }].compactMap { $0 }
        if !details.isEmpty { text += ", " + details.joined(separator: ", ") }
        return text
    }

    static func status(_ gateway: Gateway) -> String {
        var lines: [String] = []
        func row(_ label: String, _ value: String) { lines.append(pad(label, 14) + value) }
        row("gateway", "\(gateway.friendlyName) (\(gateway.udn))")
        row("external IP", externalAddress(gateway.externalAddress))
        row("connection", gateway.status?.connectionStatus ?? "unknown")
        row("uptime", gateway.status.map { duration($0.uptime) } ?? "unknown")
        row("double NAT", gateway.externalAddress.map { $0.isDoubleNAT ? "yes" : "no" } ?? "unknown")
        lines += warnings(gateway).map { $0.trimmingCharacters(in: .whitespaces) }
        return lines.joined(separator: "\n")
    }

    /// `status` of a gateway reached over PCP or NAT-PMP.
    static func status(_ gateway: GatewayRecord, external: ExternalAddress?, epochSeconds: UInt32?) -> String {
        var lines: [String] = []
        func row(_ label: String, _ value: String) { lines.append(pad(label, 14) + value) }
        row("gateway", "\(gateway.friendlyName) (\(gateway.udn)), over \(gateway.mappingProtocol.0)")
        row("external IP", externalAddress(external))
        row("uptime", epochSeconds.map { duration($0) + " (the server's epoch)" } ?? "unknown")
        row("double NAT", external.map { $0.isDoubleNAT ? "yes" : "no" } ?? "unknown")
        if let explanation = external?.doubleNATExplanation, external?.isDoubleNAT == true { lines.append(explanation) }
        return lines.joined(separator: "\n")
    }

    static func table(_ table: PortMappingTable, gateway: Gateway) -> String {
        let header = ["PROTO", "EXTERNAL", "INTERNAL", "ENABLED", "LEASE", "REMOTE HOST", "DESCRIPTION"]
        let rows = table.entries.map { entry in
            [
                entry.protocol.rawValue, String(entry.externalPort),
                "\(entry.internalClient.isEmpty ? "-" : entry.internalClient):\(entry.internalPort)",
                entry.enabled ? "yes" : "no", entry.leaseDuration == 0 ? "permanent" : "\(entry.leaseDuration) s",
                entry.remoteHost.isEmpty ? "*" : entry.remoteHost, printable(entry.description),
            ]
        }
        var lines = [columns(header, rows)]
        let count = table.entries.count == 1 ? "1 mapping" : "\(table.entries.count) mappings"
        lines.append("\(count) on \(gateway.friendlyName) (read with \(table.method.rawValue))")
        return lines.joined(separator: "\n")
    }

    static func externalAddress(_ address: ExternalAddress?) -> String {
        guard let address else { return "unknown" }
        return "\(address.reported.isEmpty ? "none" : address.reported) (\(address.addressClass.rawValue))"
    }

    static func connection(_ status: Actions.StatusInfo?) -> String {
        guard let status else { return "unknown" }
        return "\(status.connectionStatus), up \(duration(status.uptime))"
    }

    static func warnings(_ gateway: Gateway) -> [String] {
        guard let explanation = gateway.externalAddress?.doubleNATExplanation else { return [] }
        return ["  warning: \(explanation)"]
    }

    static func duration(_ seconds: UInt32) -> String {
        let (d, h, m, s) = (seconds / 86400, seconds / 3600 % 24, seconds / 60 % 60, seconds % 60)
        if d > 0 { return "\(d)d \(h)h \(m)m" }
        if h > 0 { return "\(h)h \(m)m" }
        if m > 0 { return "\(m)m \(s)s" }
        return "\(s)s"
    }

    /// Control characters from a gateway are shown escaped, never sent to the terminal.
    static func printable(_ text: String) -> String {
        String(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? "?" : Character($0) })
    }

    /// What the gateway granted, in a column: "8080", "40001 until 18:40:00Z", or "-".
    static func granted(_ grant: GrantedMapping?) -> String {
        guard let grant else { return "-" }
        guard let expires = grant.expires else { return String(grant.externalPort) }
        return "\(grant.externalPort) until \(expires.formatted(.iso8601))"
    }

    /// Why `list` shows the registry's knowledge: the gateway's protocol cannot list its table.
    static func cannotList(_ gateway: GatewayRecord) -> String {
        "\(gateway.friendlyName) is reached over \(gateway.mappingProtocol.0), which cannot list the router's table: "
            + "these are the mappings portkeeper made there, as last verified"
    }

    /// `list` on a PCP or NAT-PMP gateway: what portkeeper made there, with when it was last verified.
    static func portControlTable(_ gateway: GatewayRecord, entries: [PortMappingEntry], granted: [MappingKey: GrantedMapping]) -> String {
        var lines = [cannotList(gateway) + "."]
        let made = granted.values.sorted { $0.key < $1.key }
        guard !made.isEmpty else { return (lines + ["none is known to be there"]).joined(separator: "\n") }
        let targets = Dictionary(entries.map { (MappingKey($0), "\($0.internalClient):\($0.internalPort)") }, uniquingKeysWith: { a, _ in a })
        lines.append(columns(["PROTO", "EXTERNAL", "TO", "VIA", "VERIFIED", "EXPIRES"], made.map { g in
            [g.key.protocol.rawValue, String(g.externalPort) + (g.externalPort == g.key.externalPort ? "" : " (asked \(g.key.externalPort))"),
             targets[g.key] ?? "-", g.via.rawValue, g.verified?.formatted(.iso8601) ?? "-", g.expires?.formatted(.iso8601) ?? "-"]
        }))
        return lines.joined(separator: "\n")
    }
}
