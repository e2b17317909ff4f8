import Backends
import Foundation
import Logging

/// The storage the pipeline runs on, built from `--backend`.
struct BackendSet: Sendable {
    var objectStore: any ObjectStore
    var queue: any Backends.NotificationQueue

    /// - Parameter maxReceiveCount: receives before the embedded queue moves a message to its
    ///   dead letters (an SQS queue has its own redrive policy).
    static func make(
        _ options: BackendOptions, settings: Settings, logger: Logger, maxReceiveCount: Int = 5
    ) throws(ConfigurationError) -> BackendSet {
        switch try options.kind(settings) {
        case .local:
            return try self.local(dataDirectory: options.dataDirectory(settings), maxReceiveCount: maxReceiveCount)
        case .aws:
            throw ConfigurationError(source: "--backend", problem: "'aws' is not available in this build")
        }
    }

    /// The embedded backends under `<data-dir>`: `objects/` and `queue.sqlite`.
    static func local(dataDirectory: String, maxReceiveCount: Int) throws(ConfigurationError) -> BackendSet {
        do {
            try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
            return BackendSet(
                objectStore: try FileSystemObjectStore(directory: "\(dataDirectory)/objects"),
                queue: try SQLiteNotificationQueue(path: "\(dataDirectory)/queue.sqlite", maxReceiveCount: maxReceiveCount))
        } catch {
            throw ConfigurationError(source: "--data-dir", problem: "'\(dataDirectory)' is not usable: \(error)")
        }
    }
}
