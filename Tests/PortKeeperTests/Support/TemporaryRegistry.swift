import IGDTestSupport
import MappingRegistry

/// A registry opened in-process in a scratch directory of its own; remove the scratch
/// directory when done (`defer { scratch.remove() }`).
func temporaryRegistry(_ label: String) throws -> (registry: Registry, scratch: ScratchRegistry) {
    let scratch = try ScratchRegistry(label)
    return (try Registry(path: scratch.path), scratch)
}
