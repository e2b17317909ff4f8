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
}
