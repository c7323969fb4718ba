import MappingRegistry
import PortKeeperModel

/// Declaring from a file: the whole declaration at once (`apply -f`), and planning it first.
extension Keeper {
    /// What making `target` the declaration changes, by key: declared, redeclared, undeclared.
    public static func declarationChanges(from current: [DeclaredMapping], to target: [DeclaredMapping]) -> [Change] {
        let targetKeys = Dictionary(target.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        let currentKeys = Dictionary(current.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        var changes: [Change] = []
        for (key, mapping) in targetKeys.sorted(by: { $0.key < $1.key }) where currentKeys[key] != mapping {
            changes.append(Change(currentKeys[key] == nil ? .declared : .redeclared, key, describe(mapping),
                                  before: currentKeys[key].map(MappingState.init), after: MappingState(mapping)))
        }
        for (key, mapping) in currentKeys.sorted(by: { $0.key < $1.key }) where targetKeys[key] == nil {
            changes.append(Change(.undeclared, key, describe(mapping), before: MappingState(mapping)))
        }
        return changes
    }

    /// Makes the gateway's declaration exactly `target`, as one revision. A mapping declared
    /// before and absent from `target` is undeclared (the next reconcile deletes it from the
    /// gateway); one whose target changed is redeclared (moved there by the next reconcile).
    /// - Returns: the revision and its changes, or nil when the declaration already is `target`.
    public func replaceDeclaration(with target: [DeclaredMapping], gatewayID: Int64, source: String) throws -> (revision: Int64, changes: [Change])? {
        let changes = LockedChanges()
        let revision = try registry.changeDeclaration(gatewayID: gatewayID, command: command, actor: actor) { current in
            let found = Self.declarationChanges(from: current, to: target)
            guard !found.isEmpty else { return nil }
            changes.set(found)
            let counts = [Change.Kind.declared, .redeclared, .undeclared].compactMap { kind -> String? in
                let n = found.filter { $0.kind == kind }.count
                return n == 0 ? nil : "\(n) \(kind.rawValue)"
            }
            return (target, found, "applied \(source): " + counts.joined(separator: ", "))
        }
        return revision.map { ($0, changes.value) }
    }
}

/// Carries the changes computed inside the registry's transaction out of its closure.
private final class LockedChanges: @unchecked Sendable {
    private var stored: [Change] = []
    func set(_ changes: [Change]) { stored = changes }
    var value: [Change] { stored }
}
