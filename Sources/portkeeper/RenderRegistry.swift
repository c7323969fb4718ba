import Foundation
import IGDProtocol
import MappingRegistry
import PortKeeper

extension Render {
    /// Left-aligned columns separated by two spaces; the last column is not padded.
    static func columns(_ header: [String], _ rows: [[String]], indent: String = "") -> String {
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            indent + cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : pad(cell, widths[index])
            }.joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }

    /// `text` padded with spaces to `width`, never cut.
    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    static func entry(_ e: PortMappingEntry) -> String {
        "\(e.internalClient.isEmpty ? "-" : e.internalClient):\(e.internalPort) '\(printable(e.description))'"
    }

    static func change(_ change: Change) -> String {
        "\(pad(change.kind.rawValue, 13)) \(change.key.map { "\($0) " } ?? "")\(printable(change.detail))"
    }

    static func plan(_ report: Keeper.PlanReport) -> String {
        let plan = report.plan
        var lines = ["Plan for \(report.gateway.friendlyName) (this host is \(report.hostAddress)):"]
        for declared in report.declarationChanges { lines.append("  declare    \(change(declared))") }
        for found in report.found { lines.append("  found      \(found.key.map { "\($0) " } ?? "")\(printable(found.detail))") }
        for add in plan.adds { lines.append("  + add      \(add.declared.key)  → \(entry(add.entry))") }
        for update in plan.updates { lines.append("  ~ update   \(update.declared.key)  \(update.differences.joined(separator: ", "))") }
        for delete in plan.deletes { lines.append("  - delete   \(MappingKey(delete.current))  \(entry(delete.current)) (\(delete.reason.rawValue))") }
        for conflict in plan.replacements { lines.append("  ! replace  \(conflict.declared.key)  held by \(entry(conflict.holder)) (--force)") }
        for conflict in plan.conflicts { lines.append("  ! conflict \(conflict.declared.key)  held by \(entry(conflict.holder)); replace it with --force") }
        for foreign in plan.foreign { lines.append("  = foreign  \(MappingKey(foreign))  \(entry(foreign)) (not portkeeper's; left alone)") }
        var summary = "\(plan.adds.count) to add, \(plan.updates.count) to update, \(plan.deletes.count + plan.replacements.count) to delete"
        if !plan.conflicts.isEmpty { summary += ", \(plan.conflicts.count) in conflict" }
        summary += ", \(plan.foreign.count) foreign left alone"
        if !report.declarationChanges.isEmpty { summary = "\(report.declarationChanges.count) declaration change\(report.declarationChanges.count == 1 ? "" : "s"), " + summary }
        lines.append(plan.isInSync && report.declarationChanges.isEmpty ? "In sync (\(summary))." : "Changes pending: \(summary).")
        return lines.joined(separator: "\n")
    }

    static func reconcile(_ report: Keeper.ReconcileReport) -> String {
        var lines = report.changes.map { "  " + change($0) }
        for conflict in report.remaining.conflicts {
            lines.append("  conflict      \(conflict.declared.key) held by \(entry(conflict.holder)); replace it with --force")
        }
        for (entry, outcome) in report.unrestored {
            lines.append("  not restored  \(MappingKey(entry)) \(self.entry(entry)): \(outcome)"
                + (entry.internalClient.isEmpty ? " (the router's own entry, with no internal client, cannot be re-created over UPnP)" : ""))
        }
        let head = report.revision.map { "revision \($0): " } ?? ""
        if report.inSync {
            lines.append("\(head)\(report.gateway.friendlyName) matches the declaration" + (report.unrestored.isEmpty ? "." : ", but \(report.unrestored.count) entries of other programs were not restored."))
        } else {
            lines.append("\(head)\(report.gateway.friendlyName) does NOT match the declaration (\(report.remaining.changeCount + report.remaining.conflicts.count) left); run `portkeeper plan` to see what.")
        }
        return lines.joined(separator: "\n")
    }

    static func history(_ revisions: [RevisionRecord]) -> String {
        guard !revisions.isEmpty else { return "no revisions yet" }
        return revisions.map { revision in
            (["\(revision.number)  \(revision.time.formatted(.iso8601))  \(revision.actor.rawValue)  \(revision.command)"]
                + revision.changes.map { "    " + change($0) }).joined(separator: "\n")
        }.joined(separator: "\n")
    }
}

struct ChangeJSON: Encodable {
    var kind: String
    var key: String?
    var detail: String
    init(_ change: Change) {
        kind = change.kind.rawValue
        key = change.key?.description
        detail = change.detail
    }
}

struct DeclaredJSON: Encodable {
    var gateway: String
    var `protocol`: String
    var externalPort: UInt16
    var remoteHost: String
    var internalClient: String
    var internalPort: UInt16
    var description: String
    var leaseDuration: UInt32
    var enabled: Bool
    init(_ m: DeclaredMapping, gateway g: GatewayRecord) {
        gateway = g.udn
        self.protocol = m.key.protocol.rawValue
        externalPort = m.key.externalPort
        remoteHost = m.key.remoteHost
        internalClient = m.client == .thisHost ? "this-host" : m.client.description
        internalPort = m.internalPort
        description = m.description
        leaseDuration = m.leaseDuration
        enabled = m.enabled
    }
}

struct GatewayRecordJSON: Encodable {
    var udn, friendlyName, manufacturer, modelName, descriptionURL, serviceType, controlURL, serviceChoice: String
    var externalIP: String?
    var permanentLeasesOnly: Bool
    var descriptionLimit: Int?
    var listOfPortMappingsWorks: Bool?
    var firstSeen, lastSeen: String
    init(_ g: GatewayRecord) {
        udn = g.udn
        friendlyName = g.friendlyName
        manufacturer = g.manufacturer
        modelName = g.modelName
        descriptionURL = g.descriptionURL.description
        serviceType = g.serviceType.rawValue
        controlURL = g.controlURL.description
        serviceChoice = g.serviceChoice
        externalIP = g.externalAddress
        permanentLeasesOnly = g.permanentLeasesOnly
        descriptionLimit = g.descriptionLimit
        listOfPortMappingsWorks = g.listOfPortMappingsWorks
        firstSeen = g.firstSeen.formatted(.iso8601)
        lastSeen = g.lastSeen.formatted(.iso8601)
    }
}

struct PlanJSON: Encodable {
    struct Item: Encodable {
        var key: String
        var entry: MappingJSON?
        var current: MappingJSON?
        var detail: String?
    }
    var gateway: String
    var inSync: Bool
    var add: [Item]
    var update: [Item]
    var delete: [Item]
    var conflicts: [Item]
    var foreign: [MappingJSON]
    var found: [ChangeJSON]
    /// What the file would change in the declaration (`plan -f`); empty otherwise.
    var declaration: [ChangeJSON]
    init(_ report: Keeper.PlanReport) {
        let plan = report.plan
        gateway = report.gateway.udn
        inSync = plan.isInSync
        add = plan.adds.map { Item(key: $0.declared.key.description, entry: MappingJSON($0.entry)) }
        update = plan.updates.map { Item(key: $0.declared.key.description, entry: MappingJSON($0.entry), current: MappingJSON($0.current), detail: $0.differences.joined(separator: ", ")) }
        delete = plan.deletes.map { Item(key: MappingKey($0.current).description, current: MappingJSON($0.current), detail: $0.reason.rawValue) }
            + plan.replacements.map { Item(key: $0.declared.key.description, entry: MappingJSON($0.entry), current: MappingJSON($0.holder), detail: "replaced (--force)") }
        conflicts = plan.conflicts.map { Item(key: $0.declared.key.description, entry: MappingJSON($0.entry), current: MappingJSON($0.holder), detail: "held by \($0.holder.internalClient)") }
        foreign = plan.foreign.map(MappingJSON.init)
        found = report.found.map(ChangeJSON.init)
        declaration = report.declarationChanges.map(ChangeJSON.init)
    }
}

struct ReconcileJSON: Encodable {
    var gateway: String
    var revision: Int64?
    var inSync: Bool
    var changes: [ChangeJSON]
    /// Why nothing more was sent to the gateway, when it stopped answering.
    var stoppedAnswering: String?
    /// The operations not sent because of that ("8080/tcp").
    var notSent: [String]?
    init(_ report: Keeper.ReconcileReport) {
        gateway = report.gateway.udn
        revision = report.revision
        inSync = report.inSync
        changes = report.changes.map(ChangeJSON.init)
        stoppedAnswering = report.unreachable?.description
        notSent = report.unreachable == nil ? nil : report.notSent.map(\.description)
    }
}

struct RevisionJSON: Encodable {
    var revision: Int64
    var time: String
    var actor: String
    var command: String
    var summary: String
    var changes: [ChangeJSON]
    init(_ r: RevisionRecord) {
        revision = r.number
        time = r.time.formatted(.iso8601)
        actor = r.actor.rawValue
        command = r.command
        summary = r.summary
        changes = r.changes.map(ChangeJSON.init)
    }
}
