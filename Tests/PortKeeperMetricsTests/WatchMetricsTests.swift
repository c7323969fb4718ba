import IGDTestSupport
import MappingRegistry
import PortKeeper
import PortKeeperMetrics
import Synchronization
import Testing

/// What each watch event does to the metrics, read back from the Prometheus text.
@Suite("Watch metrics")
struct WatchMetricsTests {
    static let udn = "uuid:gw-1"
    static let gateway = ["gateway": udn]

    /// A fresh exposition on a clock the test sets.
    final class Subject: Sendable {
        /// The time of day the metrics see, in unix seconds.
        final class Time: Sendable {
            private let seconds = Mutex(1_700_000_000.0)
            func withLock(_ change: (inout Double) -> Void) { seconds.withLock { change(&$0) } }
            var now: Double { seconds.withLock { $0 } }
        }

        let time = Time()
        let exposition: MetricsExposition

        init() {
            let time = self.time
            exposition = MetricsExposition(now: { time.now })
        }

        func record(_ events: WatchEvent...) {
            events.forEach(exposition.metrics.record)
        }

        func scrape() throws -> PrometheusText {
            try PrometheusText(String(decoding: exposition.render(), as: UTF8.self))
        }
    }

    func started(declared: Int = 3) -> WatchEvent {
        .started(gateway: "Router", udn: Self.udn, declared: declared, interval: .seconds(60))
    }

    @Test("started gives the declared count; each check gives declared, present and missing, and its time in unix seconds")
    func gaugesFollowChecks() throws {
        let subject = Subject()
        subject.record(started())
        var text = try subject.scrape()
        #expect(text.value(WatchMetrics.Name.declared, Self.gateway) == 3)
        #expect(text.value(WatchMetrics.Name.lastCheck, Self.gateway) == 0)

        subject.time.withLock { $0 = 1_700_000_060 }
        subject.record(.checked(gateway: "Router", udn: Self.udn, declared: 4, missing: 1))
        text = try subject.scrape()
        #expect(text.value(WatchMetrics.Name.declared, Self.gateway) == 4)
        #expect(text.value(WatchMetrics.Name.present, Self.gateway) == 3)
        #expect(text.value(WatchMetrics.Name.missing, Self.gateway) == 1)
        #expect(text.value(WatchMetrics.Name.lastCheck, Self.gateway) == 1_700_000_060)

        // A failed look is not a successful check: the time stays.
        subject.time.withLock { $0 = 1_700_000_120 }
        subject.record(.retrying(error: PortKeeperError(.gatewayTimeout, "no answer"), after: .seconds(120)))
        #expect(try subject.scrape().value(WatchMetrics.Name.lastCheck, Self.gateway) == 1_700_000_060)
        subject.record(.checked(gateway: "Router", udn: Self.udn, declared: 4, missing: 0))
        text = try subject.scrape()
        #expect(text.value(WatchMetrics.Name.present, Self.gateway) == 4)
        #expect(text.value(WatchMetrics.Name.missing, Self.gateway) == 0)
        #expect(text.value(WatchMetrics.Name.lastCheck, Self.gateway) == 1_700_000_120)
    }

    @Test("restores and renewals count mappings, not events")
    func countersAddCounts() throws {
        let subject = Subject()
        subject.record(started(),
                       .restored(count: 3, lostOnGateway: true, afterReboot: true, revision: 2),
                       .restored(count: 1, lostOnGateway: true, afterReboot: false, revision: 3),
                       .renewed(count: 2), .updated(count: 5), .deleted(count: 1))
        let text = try subject.scrape()
        #expect(text.value(WatchMetrics.Name.restored, Self.gateway) == 4)
        #expect(text.value(WatchMetrics.Name.renewed, Self.gateway) == 2)
    }

    @Test("an announced restart and the uptime drop its check then reads are one reboot; a drop nobody announced is another")
    func rebootsCountedOnce() throws {
        let subject = Subject()
        subject.record(started(), .announcedRestart(bootID: 2, was: 1), .rebooted(uptime: 5, was: 900),
                       .checked(gateway: "Router", udn: Self.udn, declared: 3, missing: 0))
        #expect(try subject.scrape().value(WatchMetrics.Name.reboots, Self.gateway) == 1)
        // Announced, the gateway still away at the first look: the drop read later is the same reboot.
        subject.record(.announcedRestart(bootID: 3, was: 2), .away(afterByebye: false), .rebooted(uptime: 3, was: 400))
        #expect(try subject.scrape().value(WatchMetrics.Name.reboots, Self.gateway) == 2)
        subject.record(.checked(gateway: "Router", udn: Self.udn, declared: 3, missing: 0), .rebooted(uptime: 1, was: 600))
        #expect(try subject.scrape().value(WatchMetrics.Name.reboots, Self.gateway) == 3)
    }

    @Test("a PCP/NAT-PMP server's announced epoch counts as a reboot, as an announced BOOTID does")
    func announcedEpochIsReboot() throws {
        let subject = Subject()
        subject.record(started(), .announcedEpoch(seconds: 0, over: .pcp), .checked(gateway: "Router", udn: Self.udn, declared: 3, missing: 0))
        #expect(try subject.scrape().value(WatchMetrics.Name.reboots, Self.gateway) == 1)
        subject.record(.announcedEpoch(seconds: 1, over: .natPMP))
        #expect(try subject.scrape().value(WatchMetrics.Name.reboots, Self.gateway) == 2)
    }

    @Test("errors are counted by kind code, every kind present at 0 from the start")
    func errorsByKind() throws {
        let subject = Subject()
        subject.record(started())
        var text = try subject.scrape()
        for kind in PortKeeperError.Kind.allCases {
            #expect(text.value(WatchMetrics.Name.errors, ["gateway": Self.udn, "kind": kind.code]) == 0, "\(kind.code)")
        }
        struct Odd: Error {}
        subject.record(.retrying(error: PortKeeperError(.gatewayTimeout, "no answer"), after: .seconds(60)),
                       .retrying(error: PortKeeperError(.gatewayTimeout, "no answer"), after: .seconds(120)),
                       .operationFailed(PortKeeperError(.conflict, "held by 192.168.1.9")),
                       .retrying(error: RegistryError(.busy, "busy"), after: .seconds(60)),
                       .retrying(error: Odd(), after: .seconds(60)),
                       .notListening(error: PortKeeperError(.localNetwork, "port 1900 taken"), interval: .seconds(60)),
                       .away(afterByebye: true), .operationsFailed(count: 1))
        text = try subject.scrape()
        func errors(_ code: String) -> Double? { text.value(WatchMetrics.Name.errors, ["gateway": Self.udn, "kind": code]) }
        #expect(errors("gateway-timeout") == 2)
        #expect(errors("conflict") == 1)
        #expect(errors("registry") == 1)
        #expect(errors("unexpected") == 1)
        #expect(errors("local-network") == 1)
        #expect(errors("gateway-unreachable") == 0)
    }

    @Test("counters are typed counter and end in _total, gauges are gauges, every name starts with portkeeper_")
    func namingConventions() throws {
        let subject = Subject()
        subject.record(started())
        let text = try subject.scrape()
        #expect(text.types.count == 8)
        for (name, type) in text.types {
            #expect(name.hasPrefix("portkeeper_"))
            #expect((type == "counter") == name.hasSuffix("_total"), "\(name) is a \(type)")
            #expect(type == "counter" || type == "gauge")
        }
    }

    @Test("the text stays the same size however many events come: a fixed set of series")
    func boundedOutput() throws {
        let subject = Subject()
        subject.record(started())
        subject.record(.retrying(error: PortKeeperError(.gatewayTimeout, "x"), after: .seconds(1)))
        let size = subject.exposition.render().count
        for round in 0..<2_000 {
            subject.record(.restored(count: 1, lostOnGateway: true, afterReboot: false, revision: Int64(round)),
                           .retrying(error: PortKeeperError(PortKeeperError.Kind.allCases[round % 13], "x"), after: .seconds(1)),
                           .checked(gateway: "Router", udn: Self.udn, declared: 3, missing: round % 3))
        }
        // The digits of the counts grow a little; the series do not multiply.
        #expect(subject.exposition.render().count < size + 200)
        #expect(try subject.scrape().samples.count == 7 + PortKeeperError.Kind.allCases.count)
    }
}
