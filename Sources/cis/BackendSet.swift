import AWS
import Backends
import Foundation
import Logging
import ServiceLifecycle

/// The storage the pipeline runs on, built from `--backend`.
struct BackendSet: Sendable {
    var objectStore: any ObjectStore
    var queue: any MessageQueue
    /// The resolved AWS settings with `--backend aws` (the consumer's topics and event index use them too).
    var aws: AWSServices? = nil
    /// With `--backend aws` and `--dead-letter-queue-url`: the SQS dead-letter queue, for the status page and metrics.
    var deadLetterQueue: SQSMessageQueue? = nil
    /// The embedded object store with `--backend local`, to checkpoint at shutdown.
    var localObjectStore: FileSystemObjectStore? = nil

    /// The services that stop after every other: the embedded store's shutdown checkpoint.
    /// They go first in a service group's list (services stop in reverse order).
    var shutdownServices: [any Service] {
        self.localObjectStore.map { [ObjectStoreCheckpointService(store: $0)] } ?? []
    }

    /// - Parameters:
    ///   - maxReceiveCount: receives before the embedded queue moves a message to its
    ///     dead letters (an SQS queue has its own redrive policy).
    ///   - objectAccess: `.readOnly` for a process that only reads objects (`cis consume`),
    ///     so that it can run beside the intake on one data directory.
    static func make(
        _ options: BackendOptions, settings: Settings, logger: Logger, maxReceiveCount: Int = SQLiteMessageQueue.defaultMaxReceiveCount,
        objectAccess: FileSystemObjectStore.Access = .readWrite
    ) async throws(ConfigurationError) -> BackendSet {
        switch try options.kind(settings) {
        case .local:
            return try self.local(
                dataDirectory: options.dataDirectory(settings), maxReceiveCount: maxReceiveCount, objectAccess: objectAccess,
                logger: logger)
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
        let batchWindow = try options.queueBatchWindow(settings)
        let deadLetterURL = try options.deadLetterQueueURL(settings)
        let services = try await AWSOptions.services(logger: logger)
        do {
            return BackendSet(
                objectStore: S3ObjectStore(
                    s3: try services.s3(forcePathStyle: pathStyle), bucket: bucket, serverSideEncryption: encryption),
                queue: SQSMessageQueue(sqs: try services.sqs(), queueURL: queueURL, batchWindow: batchWindow),
                aws: services, deadLetterQueue: try deadLetterURL.map { SQSMessageQueue(sqs: try services.sqs(), queueURL: $0) })
        } catch {
            throw ConfigurationError(source: "AWS", problem: "\(error)")
        }
    }

    /// The embedded backends under `<data-dir>`: `objects/` and `queue.sqlite`.
    static func local(
        dataDirectory: String, maxReceiveCount: Int, objectAccess: FileSystemObjectStore.Access = .readWrite,
        logger: Logger = Logger(label: "cis")
    ) throws(ConfigurationError) -> BackendSet {
        do {
            try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
            let queue = try SQLiteMessageQueue(path: "\(dataDirectory)/queue.sqlite", maxReceiveCount: maxReceiveCount)
            // The store journals each message's notification with it and brings the queue up to date.
            let store = try FileSystemObjectStore(
                directory: "\(dataDirectory)/objects", access: objectAccess, notificationQueue: queue, logger: logger)
            if store.replayedRecords > 0 {
                logger.notice(
                    "object store: wrote back messages from its journal after an unclean stop",
                    metadata: ["objects.replayed": "\(store.replayedRecords)", "objects.directory": "\(store.directory)"])
            }
            return BackendSet(
                objectStore: store,
                queue: queue,
                localObjectStore: objectAccess == .readWrite ? store : nil)
        } catch {
            throw ConfigurationError(source: "--data-dir", problem: "'\(dataDirectory)' is not usable: \(error)")
        }
    }
}
