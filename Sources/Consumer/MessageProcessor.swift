import Backends
import Invites
import Logging
import Notifications

/// Processes one queue message: decodes the notification, fetches each object, parses the
/// invite, and publishes every event request (or the failure notice) to its route's topic.
///
/// Returning means every publish succeeded and the message may be deleted. Each publish is
/// looked up in the publish ledger first and recorded there as soon as it succeeded, so a
/// redelivered message (or a retry after a failure halfway through its events) publishes
/// only what was not published yet. What is left is the moment between a publish and its
/// record: the JSONL topics and SNS FIFO topics drop that repeat by its deduplication id;
/// an SNS standard topic gets it twice (see docs/architecture.md, "Exactly-once effect").
public struct MessageProcessor: Sendable {
    let objectStore: any ObjectStore
    let publisher: any TopicPublisher
    let router: EventRouter
    let ledger: any PublishLedger
    let parsing: any InviteParsing
    /// Bounds the fetches and parses running at once (nil: no bound), so that of the many
    /// messages in flight only this many hold their bodies in memory.
    private let parseSlots: ParseSlots?

    /// - Parameter maximumConcurrentParses: objects fetched and parsed at once, at most; the
    ///   consumer passes its `concurrency` (the parse workers).
    public init(
        objectStore: any ObjectStore, publisher: any TopicPublisher, eventIndex: any EventIndex, publishLedger: any PublishLedger,
        parsing: any InviteParsing = InProcessInviteParsing(), maximumConcurrentParses: Int? = nil
    ) {
        self.objectStore = objectStore
        self.publisher = publisher
        self.router = EventRouter(eventIndex: eventIndex)
        self.ledger = publishLedger
        self.parsing = parsing
        self.parseSlots = maximumConcurrentParses.map { ParseSlots($0) }
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
        await self.parseSlots?.acquire()
        let parsed = await Self.result { () async throws(MessageProcessingError) -> InviteParseResult in
            try await self.fetchAndParse(object)
        }
        await self.parseSlots?.release()
        switch try parsed.get() {
        case .requests(let requests):
            var publishedCount = 0
            for request in requests {
                if try await self.publish(request, logger: logger) { publishedCount += 1 }
            }
            return publishedCount
        case .failure(let failure):
            return try await self.publish(failure, logger: logger) ? 1 : 0
        case .ignored(let reason):
            logger.info("Message ignored", metadata: ["consumer.ignored.reason": "\(reason)"])
            return 0
        }
    }

    private func fetchAndParse(_ object: ObjectReference) async throws(MessageProcessingError) -> InviteParseResult {
        let fetched: FetchedObject
        do {
            fetched = try await self.objectStore.get(key: object.key)
        } catch {
            throw MessageProcessingError(backendError: error, stage: .fetch)
        }
        let envelope = MessageEnvelopeMetadata(dictionary: fetched.metadata)
        let sender = envelope.mailFrom.isEmpty ? nil : envelope.mailFrom
        let input = InviteInput(message: fetched.bytes, bucket: object.bucket, key: object.key, envelopeSender: sender)
        return try await self.parsing.parse(input)
    }

    /// Returns false when the ledger says it was published before.
    private func publish(_ request: EventRequest, logger: Logger) async throws(MessageProcessingError) -> Bool {
        let route = try await self.router.route(for: request)
        let key = PublishKey(requestId: request.requestId, uid: request.originalUID, sequence: request.sequence, route: route)
        if let messageId = try await self.publishedMessageId(for: key) {
            // Published and recorded before a crash or a failure after it: the UID may still lack its record.
            if route == .create {
                try await self.router.didPublishCreate(request)
            }
            logger.info(
                "Event request already published; not published again",
                metadata: ["consumer.route": "\(route.rawValue)", "consumer.request.id": "\(request.requestId)", "consumer.publish.message_id": "\(messageId)"])
            return false
        }
        if route == .create {
            try await self.router.willPublishCreate(request)
        }
        let (json, truncated) = TopicMessageSizeLimit.json(for: request, route: route)
        let message = TopicMessage(
            defaultMessage: json, attributes: ["method": request.method, "uid": request.requestId],
            deduplicationId: request.deduplicationId)
        let messageId = try await self.publish(message, to: route)
        // The ledger record and the UID's record at once (one group commit in the embedded
        // index); either order survives a crash between them (see `publish(_:to:key:)`).
        async let recorded = Self.result { () async throws(MessageProcessingError) in try await self.record(key, messageId: messageId) }
        async let created = Self.result { () async throws(MessageProcessingError) in
            if route == .create { try await self.router.didPublishCreate(request) }
        }
        try await recorded.get()
        try await created.get()
        logger.info(
            "Published event request",
            metadata: [
                "consumer.route": "\(route.rawValue)",
                "consumer.request.id": "\(request.requestId)",
                "consumer.request.method": "\(request.method)",
                "consumer.publish.message_id": "\(messageId)",
                "consumer.publish.truncated": "\(truncated)",
            ])
        return true
    }

    /// Returns false when the ledger says it was published before.
    private func publish(_ failure: InviteFailure, logger: Logger) async throws(MessageProcessingError) -> Bool {
        let key = PublishKey(requestId: failure.requestId, uid: "", sequence: -1, route: .failure)
        if let messageId = try await self.publishedMessageId(for: key) {
            logger.info(
                "Failure notice already published; not published again",
                metadata: ["consumer.request.id": "\(failure.requestId)", "consumer.publish.message_id": "\(messageId)"])
            return false
        }
        let message = TopicMessage(
            defaultMessage: TopicMessageSizeLimit.json(for: failure).json,
            attributes: ["method": failure.method ?? "none", "uid": failure.requestId],
            deduplicationId: failure.deduplicationId)
        let messageId = try await self.publish(message, to: .failure, key: key)
        logger.info(
            "Published failure notice",
            metadata: [
                "consumer.route": "failure",
                "consumer.request.id": "\(failure.requestId)",
                "consumer.publish.message_id": "\(messageId)",
            ])
        return true
    }

    private func publishedMessageId(for key: PublishKey) async throws(MessageProcessingError) -> String? {
        do {
            return try await self.ledger.publishedMessageId(for: key)
        } catch {
            throw MessageProcessingError(backendError: error, stage: .index)
        }
    }

    /// Publishes, then records the publish in the ledger.
    private func publish(_ message: TopicMessage, to route: Route, key: PublishKey) async throws(MessageProcessingError) -> String {
        let messageId = try await self.publish(message, to: route)
        try await self.record(key, messageId: messageId)
        return messageId
    }

    private func record(_ key: PublishKey, messageId: String) async throws(MessageProcessingError) {
        do {
            try await self.ledger.recordPublished(key, messageId: messageId)
        } catch {
            throw MessageProcessingError(backendError: error, stage: .index)
        }
    }

    private static func result<Value>(
        _ body: () async throws(MessageProcessingError) -> Value
    ) async -> Result<Value, MessageProcessingError> {
        do throws(MessageProcessingError) {
            return .success(try await body())
        } catch {
            return .failure(error)
        }
    }

    private func publish(_ message: TopicMessage, to route: Route) async throws(MessageProcessingError) -> String {
        do {
            return try await self.publisher.publish(message, to: route)
        } catch {
            throw MessageProcessingError(backendError: error, stage: .publish)
        }
    }
}
