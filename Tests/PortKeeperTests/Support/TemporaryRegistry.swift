import IGDClient
import IGDTestSupport
import MappingRegistry

/// A registry opened in-process in a scratch directory of its own; remove the scratch
/// directory when done (`defer { scratch.remove() }`).
func temporaryRegistry(_ label: String) throws -> (registry: Registry, scratch: ScratchRegistry) {
    let scratch = try ScratchRegistry(label)
    return (try Registry(path: scratch.path), scratch)
}

/// A client for tests against the fakes on loopback: limits far beyond what a loopback exchange
/// needs, so that a busy machine (the suite runs in parallel) does not turn a test about
/// something else into a timeout. Tests of a timeout set their own.
func roomyClient() -> GatewayClient {
    GatewayClient(limits: HTTPLimits(connectTimeout: .seconds(10), readTimeout: .seconds(30), deadline: .seconds(30)))
}
