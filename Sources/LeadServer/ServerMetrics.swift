
import EventLog
import Prometheus

/// The server's Prometheus registry and the store's own measures (HTTP requests by route and
/// status come from Hummingbird's `MetricsMiddleware`, through the same registry).
public final class ServerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let appended: Prometheus.Counter
    let duplicates: Prometheus.Counter
    let rejected: Prometheus.Counter
    let logHead: Prometheus.Gauge
    let commitSeconds: DurationHistogram
    let commitRecords: ValueHistogram
    let streams: Prometheus.Gauge
    let trackingRefused: Prometheus.Counter
    let streamLag: Prometheus.Gauge
    let streamDelivery: DurationHistogram
    let streamsFellBehind: Prometheus.Counter
    /// The open streams, whose lag each scrape reads.
    let subscribers = StreamSubscribers()

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        appended = registry.makeCounter(descriptor: .named("leadledger_events_appended_total", help: "Events appended through the API."))
        duplicates = registry.makeCounter(descriptor: .named("leadledger_events_duplicate_total", help: "Events skipped as duplicates (their id was in the log)."))
        rejected = registry.makeCounter(descriptor: .named("leadledger_events_rejected_total", help: "Events refused, with a reason, in the API's answers."))
        logHead = registry.makeGauge(descriptor: .named("leadledger_log_head_position", help: "The log's last position."))
        commitSeconds = registry.makeDurationHistogram(
            descriptor: .named("leadledger_commit_seconds", help: "How long each group commit took, from its write transaction to the flush that made it durable (two syncs)."),
            buckets: [.milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(20), .milliseconds(50), .milliseconds(100), .milliseconds(500), .seconds(1)])
        commitRecords = registry.makeValueHistogram(
            descriptor: .named("leadledger_commit_records", help: "How many records each group commit stored."),
            buckets: [1, 10, 100, 1_000, 10_000, 100_000])
        streams = registry.makeGauge(descriptor: .named("leadledger_stream_subscribers", help: "Open /v1/stream connections."))
        trackingRefused = registry.makeCounter(descriptor: .named("leadledger_tracking_requests_refused_total", help: "Tracking requests answered with a 4xx or 5xx."))
        streamLag = registry.makeGauge(
            descriptor: .named("leadledger_stream_lag_events", help: "The most positions any open stream is behind the log's head (what it handed to its socket), at the scrape."))
        streamDelivery = registry.makeDurationHistogram(
            descriptor: .named("leadledger_stream_delivery_seconds", help: "From an event's group commit (its recordedAt) to its write to a stream that was open when it was recorded; once a write, for its oldest event."),
            buckets: [.milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(20), .milliseconds(50), .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(10)])
        streamsFellBehind = registry.makeCounter(
            descriptor: .named("leadledger_stream_fell_behind_total", help: "Streams ended because their consumer fell behind (told where to resume)."))
    }

    func recordCommit(_ commit: Commit) {
        commitSeconds.record(commit.duration)
        commitRecords.record(Double(commit.records))
        logHead.record(Int64(clamping: commit.lastPosition))
    }

    func recordTrackingRefusal(status _: Int) {
        trackingRefused.increment()
    }

    /// Brings the gauges a scrape reads up to `head`.
    func refresh(head: UInt64) {
        logHead.record(Int64(clamping: head))
        streamLag.record(Int64(clamping: subscribers.maxLag(head: head)))
    }

    func recordAppend(appended: Int, duplicates: Int, rejected: Int) {
        if appended > 0 { self.appended.increment(by: Int64(appended)) }
        if duplicates > 0 { self.duplicates.increment(by: Int64(duplicates)) }
        if rejected > 0 { self.rejected.increment(by: Int64(rejected)) }
    }
}

extension MetricNameDescriptor {
    /// A metric named in full (`leadledger_events_appended_total`): no namespace, subsystem
    /// or unit to join, so the name exposed is exactly `name`.
    static func named(_ name: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }
}
