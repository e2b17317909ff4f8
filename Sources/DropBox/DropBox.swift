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
/// then answers 451). The notification is the only thing consumers see, so an object
/// whose notification failed is never processed; it stays as an unreferenced orphan.
public struct DropBox: MessageSink {
    private let objectStore: any ObjectStore
    private let queue: any MessageQueue
    private let configuration: DropBoxConfiguration
    private let logger: Logger
    private let sequencer = Sequencer()

    public init(objectStore: any ObjectStore, queue: any MessageQueue, configuration: DropBoxConfiguration, logger: Logger) {
        self.objectStore = objectStore
        self.queue = queue
        self.configuration = configuration
        self.logger = logger
    }

    public func deliver(_ message: ReceivedMessage) async throws -> DeliveryReceipt {
        let messageId = MessageIdentifier.make(at: message.receivedAt)
        let key = self.configuration.keyPrefix + messageId
        var logger = self.logger
        logger[metadataKey: "dropbox.message.id"] = "\(messageId)"
        logger[metadataKey: "dropbox.object.key"] = "\(key)"

        let header = ReceivedHeader.render(
            envelope: message.envelope, hostname: self.configuration.hostname, messageId: messageId, date: message.receivedAt)
        let stored: StoredObject
        let clock = ContinuousClock()
        var started = clock.now
        do {
            stored = try await self.objectStore.put(
                key: key, body: Self.body(header: header, content: message.content),
                metadata: Self.metadata(message, messageId: messageId))
            DropBoxMetrics.objectStorePut(self.objectStore, duration: clock.now - started, failed: false)
        } catch {
            DropBoxMetrics.objectStorePut(self.objectStore, duration: clock.now - started, failed: true)
            logger.info("object store write failed", metadata: ["dropbox.error": "\(error)"])
            throw DropBoxError(stage: .storeObject, messageId: messageId, underlying: error)
        }

        started = clock.now
        do {
            let event = try self.event(for: stored, clientAddress: message.envelope.clientAddress).json()
            let body: String
            switch self.configuration.envelope {
            case .s3:
                body = event
            case .sns(let topicArn):
                body = try SNSNotificationEnvelope(
                    message: event, topicArn: topicArn, fallbackRegion: self.configuration.awsRegion, date: Date()
                ).json()
            }
            _ = try await self.queue.send(body: body)
            DropBoxMetrics.queueSend(self.queue, duration: clock.now - started, failed: false)
        } catch {
            DropBoxMetrics.queueSend(self.queue, duration: clock.now - started, failed: true)
            logger.info("notification send failed", metadata: ["dropbox.error": "\(error)"])
            throw DropBoxError(stage: .sendNotification, messageId: messageId, underlying: error)
        }
        logger.debug("message stored and notification queued", metadata: ["dropbox.object.size": "\(stored.size)"])
        return DeliveryReceipt(messageId: messageId, objectKey: key)
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
