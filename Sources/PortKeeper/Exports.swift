// The domain's nouns come with the domain: `import PortKeeper` names a MappingKey, a
// DeclaredMapping, a Change, without importing the module that stores them.
@_exported import PortKeeperModel
