import Prometheus

/// `watch`'s metrics in Prometheus's text format: a ``WatchMetrics`` over a registry of its own
/// (never swift-metrics' global one, so that tests and several watches in one process do not
/// share counts).
public struct MetricsExposition: Sendable {
    public let registry: PrometheusCollectorRegistry
    /// What each event counts.
    public let metrics: WatchMetrics

    /// - Parameter now: the time of day, in seconds since 1970.
    public init(now: (@Sendable () -> Double)? = nil) {
        registry = PrometheusCollectorRegistry()
        let factory = PrometheusMetricsFactory(registry: registry)
        metrics = now.map { WatchMetrics(factory: factory, now: $0) } ?? WatchMetrics(factory: factory)
    }

    /// The text format (version 0.0.4), as node_exporter's textfile collector and a scrape read it.
    public func render() -> [UInt8] {
        registry.emitToBuffer()
    }

    /// The media type of ``render()``.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"
}
