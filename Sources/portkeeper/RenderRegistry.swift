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

    /// What a reconcile did; `changes`: those of its changes not shown already while it
    /// worked (all of them unless given).
    static func reconcile(_ report: Keeper.ReconcileReport, changes: [Change]? = nil) -> String {
        var lines = (changes ?? report.changes).map { "  " + change($0) }
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
