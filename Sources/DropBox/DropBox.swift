import Backends
import Digest
import FileIO
import Foundation
import Logging
import Notifications
import SMTPCore

/// The `MessageSink`: stores each accepted message with a `Received:` header as
/// `<prefix><message id>` and then queues its S3 `ObjectCreated:Put` notification.
///
/// `deliver` returns only after both are durable, and throws otherwise (the listener
/// then answers 451). A store that journals notifications (`NotifyingObjectStore`, the
/// embedded store opened with its queue) makes both durable in one write, and `submit`
/// hands the message to it without an async task (`DirectMessageSink`); otherwise the
/// notification is sent once the object is stored. The notification is the only thing consumers see, so an object
/// whose notification failed is never processed; it stays as an unreferenced orphan.
public struct DropBox: DirectMessageSink {
    private let objectStore: any ObjectStore
    /// The object store when it journals notifications.
    private let notifyingStore: (any NotifyingObjectStore)?
    private let queue: any MessageQueue
    private let configuration: DropBoxConfiguration
    private let logger: Logger
    private let sequencer = Sequencer()
    private let metrics: DropBoxMetrics.Handles

    public init(objectStore: any ObjectStore, queue: any MessageQueue, configuration: DropBoxConfiguration, logger: Logger) {
        self.objectStore = objectStore
        let notifyingStore = objectStore as? any NotifyingObjectStore
        self.notifyingStore = notifyingStore?.journalsNotifications == true ? notifyingStore : nil
        self.queue = queue
        self.configuration = configuration
        self.logger = logger
        self.metrics = DropBoxMetrics.Handles(objectStore: objectStore, queue: queue)
    }

    /// One message on its way to the store: named, with its header, body and metadata.
    private struct Delivery: Sendable {
        var messageId: String
        var key: String
        var logger: Logger
        var body: SegmentedBody
        var metadata: [String: String]
        var clientAddress: String
    }

    public var deliversDirectly: Bool { self.notifyingStore != nil }

    public func deliver(_ message: ReceivedMessage) async throws -> DeliveryReceipt {
        let delivery = self.prepare(message)
        if let store = self.notifyingStore {
            return try await withCheckedThrowingContinuation { continuation in
                self.submit(delivery, to: store) { continuation.resume(with: $0) }
            }
        }
        let stored: StoredObject
        let clock = ContinuousClock()
        var started = clock.now
        do {
            stored = try await self.objectStore.put(key: delivery.key, body: delivery.body, metadata: delivery.metadata)
            self.metrics.objectStorePut(duration: clock.now - started, failed: false)
        } catch {
            self.metrics.objectStorePut(duration: clock.now - started, failed: true)
            delivery.logger.info("object store write failed", metadata: ["dropbox.error": "\(error)"])
            throw DropBoxError(stage: .storeObject, messageId: delivery.messageId, underlying: error)
        }
        started = clock.now
        do {
            _ = try await self.queue.send(body: try self.notificationBody(for: stored, clientAddress: delivery.clientAddress))
            self.metrics.queueSend(duration: clock.now - started, failed: false)
        } catch {
            self.metrics.queueSend(duration: clock.now - started, failed: true)
            delivery.logger.info("notification send failed", metadata: ["dropbox.error": "\(error)"])
            throw DropBoxError(stage: .sendNotification, messageId: delivery.messageId, underlying: error)
        }
        return self.receipt(delivery, stored: stored)
    }

    /// `deliver` without a task: through the store's `submit` when it journals notifications
    /// (`completion` then runs on the store's committer thread), in a task otherwise.
    public func submit(_ message: ReceivedMessage, completion: @escaping @Sendable (Result<DeliveryReceipt, any Error>) -> Void) {
        guard let store = self.notifyingStore else {
            self.deliverInTask(message, completion: completion)
            return
        }
        self.submit(self.prepare(message), to: store, completion: completion)
    }

    /// One write makes object and notification durable: its time counts for each step.
    private func submit(
        _ delivery: Delivery, to store: any NotifyingObjectStore,
        completion: @escaping @Sendable (Result<DeliveryReceipt, any Error>) -> Void
    ) {
        let started = ContinuousClock.now
        let clientAddress = delivery.clientAddress
        store.submit(
            key: delivery.key, body: delivery.body, metadata: delivery.metadata,
            notification: { stored in try self.notificationBody(for: stored, clientAddress: clientAddress) }
        ) { result in
            let duration = ContinuousClock.now - started
            switch result {
            case .success(let stored):
                self.metrics.objectStorePut(duration: duration, failed: false)
                self.metrics.queueSend(duration: duration, failed: false)
                completion(.success(self.receipt(delivery, stored: stored)))
            case .failure(let error):
                self.metrics.objectStorePut(duration: duration, failed: true)
                delivery.logger.info("object and notification write failed", metadata: ["dropbox.error": "\(error)"])
                completion(.failure(DropBoxError(stage: .storeObject, messageId: delivery.messageId, underlying: error)))
            }
        }
    }

    private func prepare(_ message: ReceivedMessage) -> Delivery {
        let messageId = MessageIdentifier.make(at: message.receivedAt)
        let key = self.configuration.keyPrefix + messageId
        var logger = self.logger
        logger[metadataKey: "dropbox.message.id"] = "\(messageId)"
        logger[metadataKey: "dropbox.object.key"] = "\(key)"
        let header = ReceivedHeader.render(
            envelope: message.envelope, hostname: self.configuration.hostname, messageId: messageId, date: message.receivedAt)
        return Delivery(
            messageId: messageId, key: key, logger: logger, body: Self.body(header: header, content: message.content),
            metadata: Self.metadata(message, messageId: messageId), clientAddress: message.envelope.clientAddress)
    }

    private func receipt(_ delivery: Delivery, stored: StoredObject) -> DeliveryReceipt {
        delivery.logger.debug("message stored and notification queued", metadata: ["dropbox.object.size": "\(stored.size)"])
        return DeliveryReceipt(messageId: delivery.messageId, objectKey: delivery.key)
    }

    /// The queue message for a stored object: its event, as is or in SNS's envelope.
    func notificationBody(for stored: StoredObject, clientAddress: String) throws -> String {
        let event = try self.event(for: stored, clientAddress: clientAddress).json()
        switch self.configuration.envelope {
        case .s3:
            return event
        case .sns(let topicArn):
            return try SNSNotificationEnvelope(
                message: event, topicArn: topicArn, fallbackRegion: self.configuration.awsRegion, date: Date()
            ).json()
        }
    }

    /// The `ObjectCreated:Put` event for a stored object, with request ids as random as S3's.
    func event(for stored: StoredObject, clientAddress: String) -> S3EventNotification {
        S3EventNotification.objectCreated(
            bucketName: self.objectStore.bucketName,
            object: .init(key: stored.key, size: stored.size, eTag: stored.eTag, sequencer: self.sequencer.next()),
            awsRegion: self.configuration.awsRegion, configurationId: self.configuration.configurationId,
            principalId: self.configuration.principalId, sourceIPAddress: clientAddress,
            eventTime: ISO8601Timestamp.string(from: Date()),
            requestId: Digest.randomBytes(8).hexString.uppercased(),
            id2: Data(Digest.randomBytes(48)).base64EncodedString())
    }

    /// The `Received:` header, then the message as received: spooled content streams from its file.
    static func body(header: String, content: MessageContent) -> SegmentedBody {
        switch content {
        case .memory(let bytes):
            SegmentedBody(segments: [.bytes(Array(header.utf8)), .bytes(bytes)])
        case .spooled(let path, let size):
            SegmentedBody(segments: [.bytes(Array(header.utf8)), .file(path: path, offset: 0, length: size)])
        }
    }

    /// The envelope as object metadata (S3 `x-amz-meta-*`).
    static func metadata(_ message: ReceivedMessage, messageId: String) -> [String: String] {
        let envelope = message.envelope
        return MessageEnvelopeMetadata(
            messageId: messageId, mailFrom: envelope.mailFrom, recipients: envelope.recipients,
            clientAddress: envelope.clientAddress, clientPort: envelope.clientPort, helo: envelope.heloName,
            protocolName: ReceivedHeader.protocolName(envelope), tls: envelope.tls,
            receivedAt: ISO8601Timestamp.string(from: message.receivedAt)
        ).dictionary
    }
}

/// Why a delivery failed: which step, and the backend's error.
public struct DropBoxError: Error, CustomStringConvertible {
    public enum Stage: String, Sendable {
        case storeObject = "store object"
        case sendNotification = "send notification"
    }

    public var stage: Stage
    public var messageId: String
    public var underlying: any Error

    public var description: String { "\(self.stage.rawValue) failed for \(self.messageId): \(self.underlying)" }
}
