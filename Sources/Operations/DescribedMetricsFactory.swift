import CoreMetrics
import Prometheus

/// swift-prometheus' metrics factory with a `# HELP` line for each metric: the swift-metrics
/// API has no place for a description, so each target lists its metrics' help texts next to
/// them (`helpTexts`) and this factory looks them up by name. A metric without a help text is
/// exported without one (and the promtool test names it).
public struct DescribedMetricsFactory: CoreMetrics.MetricsFactory {
    public let base: PrometheusMetricsFactory
    public let helpTexts: [String: String]

    public init(base: PrometheusMetricsFactory, helpTexts: [String: String]) {
        self.base = base
        self.helpTexts = helpTexts
    }

    private func descriptor(_ label: String) -> MetricNameDescriptor? {
        self.helpTexts[label].map { MetricNameDescriptor(metricName: label, unitName: "", helpText: $0) }
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        guard let descriptor = self.descriptor(label) else { return self.base.makeCounter(label: label, dimensions: dimensions) }
        return self.base.registry.makeCounter(descriptor: descriptor, labels: dimensions)
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        guard let descriptor = self.descriptor(label) else {
            return self.base.makeFloatingPointCounter(label: label, dimensions: dimensions)
        }
        return self.base.registry.makeCounter(descriptor: descriptor, labels: dimensions)
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard let descriptor = self.descriptor(label) else {
            return self.base.makeRecorder(label: label, dimensions: dimensions, aggregate: aggregate)
        }
        guard aggregate else { return self.base.registry.makeGauge(descriptor: descriptor, labels: dimensions) }
        let buckets = self.base.valueHistogramBuckets[label] ?? self.base.defaultValueHistogramBuckets
        return self.base.registry.makeValueHistogram(descriptor: descriptor, labels: dimensions, buckets: buckets)
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        guard let descriptor = self.descriptor(label) else { return self.base.makeMeter(label: label, dimensions: dimensions) }
        return self.base.registry.makeGauge(descriptor: descriptor, labels: dimensions)
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        guard let descriptor = self.descriptor(label) else { return self.base.makeTimer(label: label, dimensions: dimensions) }
        let buckets = self.base.durationHistogramBuckets[label] ?? self.base.defaultDurationHistogramBuckets
        return self.base.registry.makeDurationHistogram(descriptor: descriptor, labels: dimensions, buckets: buckets)
    }

    public func destroyCounter(_ handler: any CounterHandler) { self.base.destroyCounter(handler) }
    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) { self.base.destroyFloatingPointCounter(handler) }
    public func destroyRecorder(_ handler: any RecorderHandler) { self.base.destroyRecorder(handler) }
    public func destroyMeter(_ handler: any MeterHandler) { self.base.destroyMeter(handler) }
    public func destroyTimer(_ handler: any TimerHandler) { self.base.destroyTimer(handler) }
}
