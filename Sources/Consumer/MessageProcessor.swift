import Backends
import Invites
import Logging
import Notifications
import SenderAuthentication

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
    /// Told what happened to each message (the status page); metrics are counted either way.
    public var observer: ConsumerActivityObserver?
    /// nil with `--sender-policy off`.
    let senderCheck: SenderCheck?
    /// Bounds the fetches and parses running at once (nil: no bound), so that of the many
    /// messages in flight only this many hold their bodies in memory.
    private let parseSlots: ParseSlots?

    /// - Parameter maximumConcurrentParses: objects fetched, parsed and verified at once, at
    ///   most; the consumer passes its `concurrency` (the parse workers).
    public init(
        objectStore: any ObjectStore, publisher: any TopicPublisher, eventIndex: any EventIndex, publishLedger: any PublishLedger,
        parsing: any InviteParsing = InProcessInviteParsing(), senderCheck: SenderCheck? = nil, maximumConcurrentParses: Int? = nil
    ) {
        self.objectStore = objectStore
        self.publisher = publisher
        self.router = EventRouter(eventIndex: eventIndex)
        self.ledger = publishLedger
        self.parsing = parsing
        self.senderCheck = senderCheck
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
        let (parsed, verdicts) = try await self.fetchParseVerify(object)
        let checked = verdicts.flatMap { verdicts in self.senderCheck.map { CheckedSender(check: $0, verdicts: verdicts) } }
        if let checked { Self.log(checked.verdicts, logger: logger) }
        switch parsed {
        case .requests(let requests):
            var publishedCount = 0
            for request in requests {
                if try await self.publish(request, checked: checked, logger: logger) { publishedCount += 1 }
            }
            return publishedCount
        case .failure(var failure):
            if let checked { failure.notify = checked.check.policy.mayNotify(checked.verdicts.report) }
            return try await self.publish(failure, senderAuthentication: checked?.summary, logger: logger) ? 1 : 0
        case .ignored(let reason):
            logger.info("Message ignored", metadata: ["consumer.ignored.reason": "\(reason)"])
            self.reportIgnored(key: object.key, reason: "\(reason)")
            return 0
        }
    }

    /// A message's sender check and what it concluded (nil with `--sender-policy off`, and for
    /// an ignored message, which is not verified).
    private struct CheckedSender {
        var check: SenderCheck
        var verdicts: SenderCheck.Verdicts

        var summary: SenderAuthenticationSummary {
            SenderAuthenticationSummary(
                report: self.verdicts.report, authenticationResults: self.verdicts.authenticationResults,
                policy: self.check.policy.mode.rawValue, ignoredAuthenticationResults: self.verdicts.ignoredAuthenticationResults)
        }
    }

    /// Fetches, parses and (with a sender policy) verifies the object under a parse slot; the
    /// message body is not kept past it.
    private func fetchParseVerify(
        _ object: ObjectReference
    ) async throws(MessageProcessingError) -> (InviteParseResult, SenderCheck.Verdicts?) {
        await self.parseSlots?.acquire()
        let outcome = await Self.result { () async throws(MessageProcessingError) -> (InviteParseResult, SenderCheck.Verdicts?) in
            try await self.fetchParseVerifyNow(object)
        }
        await self.parseSlots?.release()
        return try outcome.get()
    }

    private func fetchParseVerifyNow(
        _ object: ObjectReference
    ) async throws(MessageProcessingError) -> (InviteParseResult, SenderCheck.Verdicts?) {
        let fetched: FetchedObject
        do {
            fetched = try await self.objectStore.get(key: object.key)
        } catch {
            throw MessageProcessingError(backendError: error, stage: .fetch)
        }
        let envelope = MessageEnvelopeMetadata(dictionary: fetched.metadata)
        let sender = envelope.mailFrom.isEmpty ? nil : envelope.mailFrom
        let input = InviteInput(message: fetched.bytes, bucket: object.bucket, key: object.key, envelopeSender: sender)
        guard let senderCheck = self.senderCheck else { return (try await self.parse(input), nil) }
        // The verifier mostly waits for DNS and the parse for its worker: side by side, the
        // message holds its parse slot for the longer of the two instead of their sum. The
        // verdicts of a message the parse ignores are dropped (it is not verified in effect).
        async let verdicts = senderCheck.verify(message: fetched.bytes, envelope: envelope)
        let parsed: InviteParseResult
        do {
            parsed = try await self.parse(input)
        } catch {
            _ = await verdicts
            throw error
        }
        let finished = await verdicts
        if case .ignored = parsed { return (parsed, nil) }
        return (parsed, finished)
    }

    private func parse(_ input: InviteInput) async throws(MessageProcessingError) -> InviteParseResult {
        let parseStarted = ContinuousClock.now
        let parsed = try await self.parsing.parse(input)
        ConsumerMetrics.parsed(in: ContinuousClock.now - parseStarted)
        return parsed
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

    /// Publishes a request to its route; under a sender check, a refused request goes to the
    /// failure route as a failure notice, an accepted one to its route with the verdicts.
    /// Returns false when the ledger says it was published before.
    private func publish(_ request: EventRequest, checked: CheckedSender?, logger: Logger) async throws(MessageProcessingError) -> Bool {
        let route = try await self.router.route(for: request)
        guard let checked else {
            return try await self.publish(request, route: route, senderAuthentication: nil, creatingDomain: nil, logger: logger)
        }
        let creatingDomain = route == .update || route == .cancel ? try await self.router.creatingDomain(of: request) : nil
        let policy = checked.check.policy
        let report = checked.verdicts.report
        var summary = checked.summary
        summary.organizerMatchesSender = policy.organizerMatchesSender(request, report)
        let decision = policy.decide(
            request, route: route, creatingDomain: creatingDomain, report: report,
            temporaryErrorsMayRetry: checked.verdicts.mayRetryTemporaryErrors)
        switch decision {
        case .retryLater(let reason):
            throw MessageProcessingError(.transient, stage: .verify, reason: reason)
        case .accept:
            return try await self.publish(
                request, route: route, senderAuthentication: summary, creatingDomain: policy.creatingDomain(report), logger: logger)
        case .refuse(let reason):
            logger.notice(
                "Sender policy refused an event request",
                metadata: [
                    "consumer.route": "\(route.rawValue)", "consumer.request.id": "\(request.requestId)",
                    "consumer.policy.reason": "\(reason)",
                ])
            var failure = InviteFailure(
                reason: reason, requestId: request.requestId, mailto: request.mailto, returnPath: request.returnPath,
                method: request.method, bucket: request.bucket, key: request.key)
            failure.notify = policy.mayNotify(report)
            failure.refusedRequest = .init(originalUID: request.originalUID, sequence: request.sequence, route: route.rawValue)
            return try await self.publish(failure, senderAuthentication: summary, logger: logger)
        }
    }

    private static func log(_ verdicts: SenderCheck.Verdicts, logger: Logger) {
        let report = verdicts.report
        logger.info(
            "Sender verified",
            metadata: [
                "consumer.sender.spf": "\(report.spf.result.rawValue)",
                "consumer.sender.dkim": "\(report.dkimVerdict.rawValue)",
                "consumer.sender.dmarc": "\(report.dmarc.result.rawValue)",
                "consumer.sender.authenticated": "\(report.senderAuthenticated)",
                "consumer.sender.timed_out": "\(verdicts.timedOut)",
                "consumer.sender.ignored_authentication_results": "\(verdicts.ignoredAuthenticationResults)",
            ])
    }

    /// Returns false when the ledger says it was published before.
    private func publish(
        _ request: EventRequest, route: Route, senderAuthentication: SenderAuthenticationSummary?, creatingDomain: String?,
        logger: Logger
    ) async throws(MessageProcessingError) -> Bool {
        let key = PublishKey(requestId: request.requestId, uid: request.originalUID, sequence: request.sequence, route: route)
        if let messageId = try await self.publishedMessageId(for: key) {
            // Published and recorded before a crash or a failure after it: the UID may still lack its record.
            if route == .create {
                try await self.router.didPublishCreate(request, creatingDomain: creatingDomain)
            }
            self.reportDuplicate(route)
            logger.info(
                "Event request already published; not published again",
                metadata: ["consumer.route": "\(route.rawValue)", "consumer.request.id": "\(request.requestId)", "consumer.publish.message_id": "\(messageId)"])
            return false
        }
        if route == .create {
            try await self.router.willPublishCreate(request)
        }
        let (json, truncated) = TopicMessageSizeLimit.json(for: request, route: route, senderAuthentication: senderAuthentication)
        let message = TopicMessage(
            defaultMessage: json, attributes: ["method": request.method, "uid": request.requestId],
            deduplicationId: request.deduplicationId)
        let messageId = try await self.publish(message, to: route, key: key)
        if route == .create {
            try await self.router.didPublishCreate(request, creatingDomain: creatingDomain)
        }
        self.reportPublished(route, key: request.key, uid: request.originalUID, summary: request.summary)
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
    private func publish(
        _ failure: InviteFailure, senderAuthentication: SenderAuthenticationSummary? = nil, logger: Logger
    ) async throws(MessageProcessingError) -> Bool {
        // A refused request of a PUBLISH with several events has its own key (its UID and SEQUENCE).
        let key = PublishKey(
            requestId: failure.requestId, uid: failure.refusedRequest?.originalUID ?? "", sequence: failure.refusedRequest?.sequence ?? -1,
            route: .failure)
        if let messageId = try await self.publishedMessageId(for: key) {
            self.reportDuplicate(.failure)
            logger.info(
                "Failure notice already published; not published again",
                metadata: ["consumer.request.id": "\(failure.requestId)", "consumer.publish.message_id": "\(messageId)"])
            return false
        }
        let message = TopicMessage(
            defaultMessage: TopicMessageSizeLimit.json(for: failure, senderAuthentication: senderAuthentication).json,
            attributes: ["method": failure.method ?? "none", "uid": failure.requestId],
            deduplicationId: failure.deduplicationId)
        let messageId = try await self.publish(message, to: .failure, key: key)
        self.reportPublished(.failure, key: failure.key, uid: nil, summary: nil, failureReason: failure.reason)
        logger.info(
            "Published failure notice",
            metadata: [
                "consumer.route": "failure",
                "consumer.request.id": "\(failure.requestId)",
                "consumer.failure.notify": "\(failure.notify)",
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
        do {
            try await self.ledger.recordPublished(key, messageId: messageId)
        } catch {
            throw MessageProcessingError(backendError: error, stage: .index)
        }
        return messageId
    }

    private func publish(_ message: TopicMessage, to route: Route) async throws(MessageProcessingError) -> String {
        let started = ContinuousClock.now
        do {
            let messageId = try await self.publisher.publish(message, to: route)
            ConsumerMetrics.publish(route, duration: ContinuousClock.now - started, failed: false)
            return messageId
        } catch {
            ConsumerMetrics.publish(route, duration: ContinuousClock.now - started, failed: true)
            throw MessageProcessingError(backendError: error, stage: .publish)
        }
    }
}
