import AWS
import Backends
import Foundation
import Logging

/// The storage the pipeline runs on, built from `--backend`.
struct BackendSet: Sendable {
    var objectStore: any ObjectStore
    var queue: any Backends.NotificationQueue
    /// The resolved AWS settings with `--backend aws` (the consumer's topics and event index use them too).
    var aws: AWSServices? = nil

    /// - Parameter maxReceiveCount: receives before the embedded queue moves a message to its
    ///   dead letters (an SQS queue has its own redrive policy).
    static func make(
        _ options: BackendOptions, settings: Settings, logger: Logger, maxReceiveCount: Int = 5
    ) async throws(ConfigurationError) -> BackendSet {
        switch try options.kind(settings) {
        case .local:
            return try self.local(dataDirectory: options.dataDirectory(settings), maxReceiveCount: maxReceiveCount)
        case .aws:
            return try await self.aws(options.aws, settings: settings, logger: logger)
        }
    }

    /// S3 and SQS; every option is checked before credentials are resolved.
    static func aws(_ options: AWSOptions, settings: Settings, logger: Logger) async throws(ConfigurationError) -> BackendSet {
        let bucket = try options.bucketName(settings)
        let queueURL = try options.queueURL(settings)
        let encryption = try options.serverSideEncryption(settings)
        let pathStyle = try options.pathStyle(settings)
        let services = try await AWSOptions.services(logger: logger)
        do {
            return BackendSet(
                objectStore: S3ObjectStore(
                    s3: try services.s3(forcePathStyle: pathStyle), bucket: bucket, serverSideEncryption: encryption),
                queue: SQSNotificationQueue(sqs: try services.sqs(), queueURL: queueURL),
                aws: services)
        } catch {
            throw ConfigurationError(source: "AWS", problem: "\(error)")
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
