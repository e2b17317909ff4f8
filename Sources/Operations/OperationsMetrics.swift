import Metrics

/// The process-wide metrics (swift-metrics API; `MetricsExport` serves them as Prometheus text).
/// The intake's, the drop box's, the backends' and the consumer's are defined in their targets.
public enum OperationsMetrics {
    /// `# HELP` texts of the process-wide metrics, by name (`DescribedMetricsFactory`).
    public static let helpTexts: [String: String] = [
        "cis_build_info": "Always 1; the version label names the running build.",
        "cis_start_time_seconds": "Process start, seconds since the epoch.",
        "cis_tls_certificate_expiry_timestamp_seconds": "notAfter of the STARTTLS certificate, seconds since the epoch.",
        "cis_queue_depth_messages": "Messages in the notification queue, visible or in flight (sampled each probe interval).",
        "cis_queue_oldest_message_age_seconds": "Age of the oldest message in the embedded queue, 0 when empty (sampled; SQS does not tell it).",
        "cis_dead_letter_queue_messages": "Messages in the dead-letter queue (sampled).",
        "cis_data_disk_free_bytes": "Free bytes on the data directory's file system (sampled).",
        "cis_ready": "1 while every readiness check passes.",
    ]

    /// `cis_build_info{version}` = 1, the usual way to expose the running version.
    public static func recordBuildInfo(version: String) {
        Gauge(label: "cis_build_info", dimensions: [("version", version)]).record(1)
    }

    /// Seconds since the epoch when the process started (like `process_start_time_seconds`).
    public static let startTime = Gauge(label: "cis_start_time_seconds")
    /// `notAfter` of the STARTTLS certificate, seconds since the epoch.
    public static let certificateExpiry = Gauge(label: "cis_tls_certificate_expiry_timestamp_seconds")
    /// Messages in the notification queue (visible and in flight), sampled every probe interval.
    public static let queueDepth = Gauge(label: "cis_queue_depth_messages")
    /// Age of the oldest message in the queue, sampled; 0 when it is empty.
    public static let queueOldestAge = Gauge(label: "cis_queue_oldest_message_age_seconds")
    /// Messages in the dead-letter queue, sampled.
    public static let deadLetters = Gauge(label: "cis_dead_letter_queue_messages")
    /// Free bytes on the data directory's file system, sampled.
    public static let diskFree = Gauge(label: "cis_data_disk_free_bytes")
    /// 1 while every readiness check passes.
    public static let ready = Gauge(label: "cis_ready")
}
