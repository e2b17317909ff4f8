import Backends
import Metrics

/// The drop box's metrics: the two steps of a delivery, timed and counted by backend.
public enum DropBoxMetrics {
    /// `# HELP` texts of the drop box's metrics, by name (`DescribedMetricsFactory`).
    public static let helpTexts: [String: String] = [
        "cis_object_store_put_seconds": "Object-store writes by backend, in seconds.",
        "cis_object_store_put_errors_total": "Object-store writes that failed, by backend.",
        "cis_queue_send_seconds": "Queue notification sends by backend, in seconds.",
        "cis_queue_send_errors_total": "Queue notification sends that failed, by backend.",
    ]

    static func objectStorePut(_ store: any ObjectStore, duration: Duration, failed: Bool) {
        let backend = Self.backendName(store)
        Timer(label: "cis_object_store_put_seconds", dimensions: [("backend", backend)]).record(duration: duration)
        if failed { Counter(label: "cis_object_store_put_errors_total", dimensions: [("backend", backend)]).increment() }
    }

    static func queueSend(_ queue: any MessageQueue, duration: Duration, failed: Bool) {
        let backend = Self.backendName(queue)
        Timer(label: "cis_queue_send_seconds", dimensions: [("backend", backend)]).record(duration: duration)
        if failed { Counter(label: "cis_queue_send_errors_total", dimensions: [("backend", backend)]).increment() }
    }

    /// `filesystem`, `s3`, `sqlite`, `sqs`: the implementation's type, named the way the options name it.
    static func backendName(_ backend: Any) -> String {
        switch String(describing: type(of: backend)) {
        case "FileSystemObjectStore": "filesystem"
        case "S3ObjectStore": "s3"
        case "SQLiteMessageQueue": "sqlite"
        case "SQSMessageQueue": "sqs"
        case let other: other
        }
    }
}
