import CoreMetrics
import Prometheus

/// Sends every swift-metrics metric of the process to one Prometheus registry, which
/// `/metrics` renders. Histogram buckets are chosen per metric where the defaults do not fit.
public enum MetricsExport {
    /// Bootstraps the process-wide `MetricsSystem` (once, before any metric is made).
    /// - Parameter helpTexts: metric name → the `# HELP` text, every target's `helpTexts` together.
    public static func bootstrap(helpTexts: [String: String]) -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(DescribedMetricsFactory(base: self.factory(registry: registry), helpTexts: helpTexts))
        return registry
    }

    public static func factory(registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500),
            .seconds(5), .seconds(10), .seconds(30),
        ]
        factory.valueHistogramBuckets = [
            "cis_smtp_message_size_bytes": [1024, 4096, 16384, 65536, 262_144, 1_048_576, 4_194_304, 16_777_216, 67_108_864],
            "cis_smtp_message_recipients": [1, 2, 3, 5, 10, 20, 50, 100],
            "cis_journal_batch_messages": [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
        ]
        return factory
    }
}
