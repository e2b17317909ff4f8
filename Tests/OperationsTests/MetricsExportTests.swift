import Metrics
import Prometheus
import Testing

@testable import Operations

/// The Prometheus side of the swift-metrics API as cis configures it (a factory per test: the
/// process-wide bootstrap happens once, in `cis`).
@Suite struct MetricsExportTests {
    func text(_ registry: PrometheusCollectorRegistry) -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    @Test func messageSizesGetByteBucketsAndTimersSeconds() {
        let registry = PrometheusCollectorRegistry()
        let factory = MetricsExport.factory(registry: registry)
        Recorder(label: "cis_smtp_message_size_bytes", factory: factory).record(5000)
        Recorder(label: "cis_smtp_message_recipients", factory: factory).record(3)
        Metrics.Timer(label: "cis_smtp_data_to_reply_seconds", factory: factory).record(duration: .milliseconds(3))
        let text = self.text(registry)
        #expect(text.contains(#"cis_smtp_message_size_bytes_bucket{le="4096.0"} 0"#))
        #expect(text.contains(#"cis_smtp_message_size_bytes_bucket{le="16384.0"} 1"#))
        #expect(text.contains(#"cis_smtp_message_recipients_bucket{le="3.0"} 1"#))
        #expect(text.contains(#"cis_smtp_data_to_reply_seconds_bucket{le="0.002"} 0"#))
        #expect(text.contains(#"cis_smtp_data_to_reply_seconds_bucket{le="0.005"} 1"#))
        #expect(text.contains("# TYPE cis_smtp_data_to_reply_seconds histogram"))
    }

    @Test func countersAndGaugesKeepTheirLabels() {
        let registry = PrometheusCollectorRegistry()
        let factory = MetricsExport.factory(registry: registry)
        Counter(label: "cis_consumer_messages_total", dimensions: [("route", "create"), ("outcome", "published")], factory: factory)
            .increment()
        Counter(label: "cis_consumer_messages_total", dimensions: [("route", "create"), ("outcome", "published")], factory: factory)
            .increment()
        Gauge(label: "cis_queue_depth_messages", factory: factory).record(7)
        let text = self.text(registry)
        #expect(text.contains(#"cis_consumer_messages_total{route="create",outcome="published"} 2"#))
        #expect(text.contains("# TYPE cis_consumer_messages_total counter"))
        #expect(text.contains("cis_queue_depth_messages 7"))
    }

    @Test func everyMetricKindGetsItsHelpLineBeforeItsType() {
        let registry = PrometheusCollectorRegistry()
        let factory = DescribedMetricsFactory(
            base: MetricsExport.factory(registry: registry),
            helpTexts: [
                "cis_a_total": "A counter.", "cis_b": "A gauge.", "cis_c_seconds": "A timer.", "cis_smtp_message_size_bytes": "Sizes.",
                "cis_d": "A meter.",
            ])
        Counter(label: "cis_a_total", dimensions: [("route", "create")], factory: factory).increment()
        Counter(label: "cis_a_total", dimensions: [("route", "cancel")], factory: factory).increment()
        Gauge(label: "cis_b", factory: factory).record(2)
        Metrics.Timer(label: "cis_c_seconds", factory: factory).record(duration: .milliseconds(3))
        Recorder(label: "cis_smtp_message_size_bytes", factory: factory).record(5000)
        Meter(label: "cis_d", factory: factory).increment()
        Counter(label: "cis_undescribed_total", factory: factory).increment()
        let text = self.text(registry)
        #expect(text.contains("# HELP cis_a_total A counter.\n# TYPE cis_a_total counter\n"))
        #expect(text.ranges(of: "# HELP cis_a_total").count == 1)
        #expect(text.contains("# HELP cis_b A gauge.\n# TYPE cis_b gauge\n"))
        #expect(text.contains("# HELP cis_c_seconds A timer.\n# TYPE cis_c_seconds histogram\n"))
        #expect(text.contains("# HELP cis_d A meter.\n# TYPE cis_d gauge\n"))
        // The size histogram keeps its own buckets with a help text too.
        #expect(text.contains(#"cis_smtp_message_size_bytes_bucket{le="16384.0"} 1"#))
        #expect(text.contains("# HELP cis_smtp_message_size_bytes Sizes."))
        #expect(!text.contains("# HELP cis_undescribed_total"))
        #expect(text.contains("# TYPE cis_undescribed_total counter"))
    }
}
