import CoreMetrics
import Foundation
import PortKeeper
import Synchronization

/// `watch`'s metrics: each ``WatchEvent`` counted or measured through swift-metrics, in the
/// factory it is given (``MetricsExposition`` gives a Prometheus one).
///
/// Every series carries the label `gateway` (the watched gateway's UDN, which survives a move
/// or a new name); errors also carry `kind` (a ``PortKeeperError/Kind/code``). The set of series
/// is fixed once the watch has started (one gateway, thirteen kinds), so what it holds and
/// renders stays the same size however long it runs.
public final class WatchMetrics: Sendable {
    /// The metric names, Prometheus style: `portkeeper_` first, `_total` for counters, the
    /// unit last.
    public enum Name {
        public static let declared = "portkeeper_mappings_declared"
        public static let present = "portkeeper_mappings_present"
        public static let missing = "portkeeper_mappings_missing"
        public static let restored = "portkeeper_mappings_restored_total"
        public static let renewed = "portkeeper_leases_renewed_total"
        public static let errors = "portkeeper_errors_total"
        public static let lastCheck = "portkeeper_last_successful_check_timestamp_seconds"
        public static let reboots = "portkeeper_gateway_reboots_total"
    }

    /// The series of one gateway.
    fileprivate struct Series {
        let udn: String
        let declared: Gauge
        let present: Gauge
        let missing: Gauge
        let restored: Counter
        let renewed: Counter
        let reboots: Counter
        let lastCheck: Gauge
        let errors: [PortKeeperError.Kind: Counter]

        init(udn: String, factory: any MetricsFactory) {
            self.udn = udn
            let gateway = [("gateway", udn)]
            declared = Gauge(label: Name.declared, dimensions: gateway, factory: factory)
            present = Gauge(label: Name.present, dimensions: gateway, factory: factory)
            missing = Gauge(label: Name.missing, dimensions: gateway, factory: factory)
            restored = Counter(label: Name.restored, dimensions: gateway, factory: factory)
            renewed = Counter(label: Name.renewed, dimensions: gateway, factory: factory)
            reboots = Counter(label: Name.reboots, dimensions: gateway, factory: factory)
            lastCheck = Gauge(label: Name.lastCheck, dimensions: gateway, factory: factory)
            // Every kind from the start, at 0: a rate over a series that appears only with its
            // first error would miss that error.
            errors = Dictionary(uniqueKeysWithValues: PortKeeperError.Kind.allCases.map { kind in
                (kind, Counter(label: Name.errors, dimensions: gateway + [("kind", kind.code)], factory: factory))
            })
        }
    }

    fileprivate struct State {
        var series: Series?
        /// A restart was announced and no look has finished since: the uptime going down at
        /// that look is the same reboot, not another.
        var restartAnnounced = false
    }

    private let factory: any MetricsFactory
    private let now: @Sendable () -> Double
    private let state = Mutex(State())

    /// - Parameters:
    ///   - factory: where the metrics are made.
    ///   - now: the time of day, in seconds since 1970 (tests inject their own).
    public init(factory: any MetricsFactory, now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.factory = factory
        self.now = now
    }

    /// Counts or measures `event`.
    public func record(_ event: WatchEvent) {
        state.withLock { state in
            switch event {
            case let .started(_, udn, declared, _):
                state.series(udn, factory).declared.record(declared)
            case let .checked(_, udn, declared, missing):
                let series = state.series(udn, factory)
                series.declared.record(declared)
                series.present.record(max(0, declared - missing))
                series.missing.record(missing)
                series.lastCheck.record(now())
                state.restartAnnounced = false
            case .restored(let count, _, _, _):
                state.series?.restored.increment(by: count)
            case .renewed(let count):
                state.series?.renewed.increment(by: count)
            case .announcedRestart, .announcedEpoch:
                state.series?.reboots.increment()
                state.restartAnnounced = true
            case .rebooted:
                if !state.restartAnnounced { state.series?.reboots.increment() }
                state.restartAnnounced = false
            case .operationFailed(let error):
                state.series?.errors[error.kind]?.increment()
            case .retrying(let error, _), .notListening(let error, _):
                state.series?.errors[Failure.kind(of: error)]?.increment()
            case .announcedLeaving, .announcedMove, .announcedReturn, .announcedAddress, .verified, .moved,
                 .externalAddressChanged, .hostAddressChanged, .updated, .deleted, .operationsFailed,
                 .ignored, .notInSync, .away, .stopped:
                break
            }
        }
    }
}

extension WatchMetrics.State {
    /// The series of the gateway `udn`, made at its first event.
    fileprivate mutating func series(_ udn: String, _ factory: any MetricsFactory) -> WatchMetrics.Series {
        if let series, series.udn == udn { return series }
        let made = WatchMetrics.Series(udn: udn, factory: factory)
        series = made
        return made
    }
}
