import IGDTestSupport
@testable import PortKeeper
import PortKeeperMetrics
import Testing

/// The watch loop's events turned into metrics, on the fake gateway and the manual clock: what
/// a scrape shows after each kind of look.
@Suite("Watch loop metrics", .timeLimit(.minutes(1)))
struct WatchMetricsLoopTests {
    static let epoch = 1_700_000_000.0
    static let gateway = ["gateway": "uuid:fake-gateway"]

    @Test("a lost mapping restored, one held by another client, a failed look: restores, gauges, errors and the check time as a scrape shows them")
    func loopToMetrics() async throws {
        let clock = ManualClock()
        let exposition = MetricsExposition(now: { Self.epoch + Double(clock.now.offset.components.seconds) })
        let run = WatchRun(clock: clock, observer: WatchRun.Observer { exposition.metrics.record($0) }) { target, _ in
            target.update { $0.declared = 3 }
        }
        func scrape() throws -> PrometheusText { try PrometheusText(String(decoding: exposition.render(), as: UTF8.self)) }

        try await run.log.wait(for: "checked")
        var text = try scrape()
        #expect(text.value(WatchMetrics.Name.declared, Self.gateway) == 3)
        #expect(text.value(WatchMetrics.Name.present, Self.gateway) == 3)
        #expect(text.value(WatchMetrics.Name.lastCheck, Self.gateway) == Self.epoch)

        // One deleted behind its back: the next look (60 s on) restores it.
        run.target.update { $0.missing = 1 }
        try await run.advanceToNextSleep()
        try await run.log.wait(for: "checked", count: 2)
        text = try scrape()
        #expect(text.value(WatchMetrics.Name.restored, Self.gateway) == 1)
        #expect(text.value(WatchMetrics.Name.missing, Self.gateway) == 0)
        #expect(text.value(WatchMetrics.Name.lastCheck, Self.gateway) == Self.epoch + 60)

        // One held by another client: the look ends with it missing.
        run.target.update { $0.held = 1 }
        try await run.advanceToNextSleep()
        try await run.log.wait(for: "checked", count: 3)
        text = try scrape()
        #expect(text.value(WatchMetrics.Name.present, Self.gateway) == 2)
        #expect(text.value(WatchMetrics.Name.missing, Self.gateway) == 1)

        // The gateway stops answering: an error of its kind, and the check time stays.
        run.target.update { $0.answering = false }
        try await run.advanceToNextSleep()
        try await run.log.wait(for: "retrying")
        text = try scrape()
        #expect(text.value(WatchMetrics.Name.errors, Self.gateway.merging(["kind": "unexpected"]) { a, _ in a }) == 1)
        #expect(text.value(WatchMetrics.Name.lastCheck, Self.gateway) == Self.epoch + 120)
        try await run.finish()
    }
}
