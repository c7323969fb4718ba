/// A fake IGDv2 gateway on loopback for the length of `body`, shut down afterwards even when
/// `body` throws.
public func withGateway(_ body: (SimulatedGateway) async throws -> Void) async throws {
    let gateway = try await SimulatedGateway.start(profile: .igdv2(), ssdp: false)
    do {
        try await body(gateway)
    } catch {
        await gateway.shutdown()
        throw error
    }
    await gateway.shutdown()
}
