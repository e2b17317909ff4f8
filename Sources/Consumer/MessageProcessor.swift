import Backends
import Invites
import Logging
import Notifications

/// Processes one queue message: decodes the notification, fetches each object, parses the
/// invite, and publishes every event request (or the failure notice) to its route's topic.
///
/// Returning means every publish succeeded and the message may be deleted. Publishing is
/// idempotent per request: a redelivered message publishes the same messages with the same
/// deduplication ids.
public struct MessageProcessor: Sendable {
    let objectStore: any ObjectStore
    let publisher: any TopicPublisher
    let router: EventRouter
    let parsing: any InviteParsing

    public init(
        objectStore: any ObjectStore, publisher: any TopicPublisher, eventIndex: any EventIndex,
        parsing: any InviteParsing = InProcessInviteParsing()
    ) {
        self.objectStore = objectStore
        self.publisher = publisher
        self.router = EventRouter(eventIndex: eventIndex)
        self.parsing = parsing
    }

    public func process(
        _ message: QueueMessage, logger: Logger
    ) async throws(MessageProcessingError) -> ProcessingOutcome {
        let notification: QueueNotification
        do {
            notification = try QueueNotification.decode(message.body)
        } catch {
            throw MessageProcessingError(.permanent, stage: .decode, reason: error.reason)
        }
        switch notification {
        case .testEvent:
            return .testEvent
        case .objectsCreated(let objects):
            var publishedCount = 0
            for object in objects {
                var logger = logger
                logger[metadataKey: "consumer.object.key"] = "\(object.key)"
                publishedCount += try await self.process(object, logger: logger)
            }
            return .processed(publishedCount: publishedCount)
        }
    }

    /// Returns the number of topic messages published for the object.
    private func process(_ object: ObjectReference, logger: Logger) async throws(MessageProcessingError) -> Int {
        guard object.bucket == self.objectStore.bucketName else {
            throw MessageProcessingError(
                .permanent, stage: .fetch,
                reason: "notification names bucket \(object.bucket), the consumer reads bucket \(self.objectStore.bucketName)")
        }
        let fetched: FetchedObject
        do {
            fetched = try await self.objectStore.get(key: object.key)
        } catch {
            throw MessageProcessingError(backendError: error, stage: .fetch)
        }
        let envelope = MessageEnvelopeMetadata(dictionary: fetched.metadata)
        let sender = envelope.mailFrom.isEmpty ? nil : envelope.mailFrom
        let input = InviteInput(message: fetched.bytes, bucket: object.bucket, key: object.key, envelopeSender: sender)
        switch try await self.parsing.parse(input) {
        case .requests(let requests):
            for request in requests {
                try await self.publish(request, logger: logger)
            }
            return requests.count
        case .failure(let failure):
            try await self.publish(failure, logger: logger)
            return 1
        case .ignored(let reason):
            logger.info("Message ignored", metadata: ["consumer.ignored.reason": "\(reason)"])
            return 0
        }
    }

    private func publish(_ request: EventRequest, logger: Logger) async throws(MessageProcessingError) {
        let route = try await self.router.route(for: request)
        if route == .create {
            try await self.router.willPublishCreate(request)
        }
        let message = TopicMessage(
            defaultMessage: request.json(route: route),
            attributes: ["method": request.method, "uid": request.requestId],
            deduplicationId: request.deduplicationId)
        let messageId = try await self.publish(message, to: route)
        if route == .create {
            try await self.router.didPublishCreate(request)
        }
        logger.info(
            "Published event request",
            metadata: [
                "consumer.route": "\(route.rawValue)",
                "consumer.request.id": "\(request.requestId)",
                "consumer.request.method": "\(request.method)",
                "consumer.publish.message_id": "\(messageId)",
            ])
    }

    private func publish(_ failure: InviteFailure, logger: Logger) async throws(MessageProcessingError) {
        let message = TopicMessage(
            defaultMessage: failure.json(),
            attributes: ["method": failure.method ?? "none", "uid": failure.requestId],
            deduplicationId: failure.deduplicationId)
        let messageId = try await self.publish(message, to: .failure)
        logger.info(
            "Published failure notice",
            metadata: [
                "consumer.route": "failure",
                "consumer.request.id": "\(failure.requestId)",
                "consumer.publish.message_id": "\(messageId)",
            ])
    }

    private func publish(_ message: TopicMessage, to route: Route) async throws(MessageProcessingError) -> String {
        do {
            return try await self.publisher.publish(message, to: route)
        } catch {
            throw MessageProcessingError(backendError: error, stage: .publish)
        }
    }
}
