import Backends
import Logging
import ServiceLifecycle

/// The queue worker: long-polls the notification queue, up to
/// `ConsumerConfiguration.receiveBatchSize` messages a receive, and keeps up to
/// `configuration.maximumInFlight` messages in processing (their parses limited to
/// `configuration.concurrency` at once by the parse worker pool). The backends group-commit
/// what arrives together, so the ledger records, topic appends and deletes of the messages in
/// flight share their transactions and fsyncs.
///
/// A message is deleted only after every publish it needed succeeded. After a transient
/// failure (a backend unavailable) the worker keeps the message (extending its visibility)
/// and tries again after a backoff that grows with each failure, so an outage does not use up
/// the queue's receive limit: SQS counts every receive, and a message received again is one
/// receive closer to the dead-letter queue. It hands the message back with `retryLater`
/// (which the embedded queue does not count as a receive) only when graceful shutdown starts
/// or after `maximumTransientHold`, under SQS's 12 hours. After a permanent failure the
/// message is left as it is, so that the queue's dead-letter policy takes it once its receive
/// count reaches the maximum; a worker that dies while processing leaves it too, so a message
/// that keeps crashing the worker also ends there.
///
/// On graceful shutdown the worker stops polling, finishes the messages in flight and returns.
public struct ConsumerService: Service {
    public typealias Sleep = @Sendable (Duration) async throws -> Void

    let queue: any MessageQueue
    let processor: MessageProcessor
    let configuration: ConsumerConfiguration
    let logger: Logger
    let sleep: Sleep

    /// - Parameter sleep: waits between receives after the queue failed, and before a message is
    ///   processed again after a transient failure; tests pass a shorter one.
    public init(
        queue: any MessageQueue,
        processor: MessageProcessor,
        configuration: ConsumerConfiguration,
        logger: Logger,
        sleep: @escaping Sleep = { try await Task.sleep(for: $0) }
    ) {
        self.queue = queue
        self.processor = processor
        self.configuration = configuration
        self.logger = logger
        self.sleep = sleep
    }

    public func run() async throws {
        let inFlight = InFlightLimit(limit: self.configuration.maximumInFlight)
        let visibilityTimeout = self.configuration.visibilityTimeout
        let keeper = visibilityTimeout > 0
            ? VisibilityKeeper(interval: .milliseconds(visibilityTimeout * 1000 / ConsumerConfiguration.visibilityExtensionDivisor)) : nil
        let keeping = keeper.map { keeper in
            Task { [queue = self.queue] in await keeper.run(queue: queue, visibilityTimeout: visibilityTimeout) }
        }
        self.logger.info(
            "Consumer started",
            metadata: [
                "consumer.concurrency": "\(self.configuration.concurrency)",
                "consumer.poll_wait": "\(self.configuration.pollWaitTime)",
                "consumer.visibility_timeout": "\(self.configuration.visibilityTimeout)",
            ])
        await withDiscardingTaskGroup { group in
            var consecutiveReceiveFailures = 0
            while !Self.isStopping {
                let capacity = await inFlight.waitForCapacity(atLeast: self.configuration.minimumReceive)
                if Self.isStopping { break }
                let messages: [QueueMessage]
                do {
                    messages = try await self.receive(maxMessages: min(capacity, ConsumerConfiguration.receiveBatchSize))
                    consecutiveReceiveFailures = 0
                } catch {
                    if Self.isStopping { break }
                    consecutiveReceiveFailures += 1
                    let delay = self.configuration.receiveFailureBackoff.delay(afterAttempt: consecutiveReceiveFailures)
                    self.logger.warning(
                        "Queue receive failed; retrying",
                        metadata: [
                            "consumer.error": "\(error)",
                            "consumer.receive.failures": "\(consecutiveReceiveFailures)",
                            "consumer.retry.delay": "\(delay)",
                        ])
                    do {
                        try await cancelWhenGracefulShutdown { [sleep = self.sleep] in try await sleep(delay) }
                    } catch {
                        break
                    }
                    continue
                }
                for message in messages {
                    await inFlight.begin()
                    group.addTask {
                        await self.handle(message, keeper: keeper)
                        await inFlight.end()
                    }
                }
            }
        }
        keeping?.cancel()
        await self.processor.parsing.shutdown()
        self.logger.info("Consumer stopped")
    }

    private static var isStopping: Bool { Task.isShuttingDownGracefully || Task.isCancelled }

    /// Receives, giving up the long poll when graceful shutdown starts.
    private func receive(maxMessages: Int) async throws -> [QueueMessage] {
        let configuration = self.configuration
        return try await cancelWhenGracefulShutdown { [queue = self.queue] in
            try await queue.receive(
                maxMessages: maxMessages,
                visibilityTimeout: configuration.visibilityTimeout,
                waitTime: configuration.pollWaitTime)
        }
    }

    private func handle(_ message: QueueMessage, keeper: VisibilityKeeper?) async {
        var logger = self.logger
        logger[metadataKey: "consumer.queue.message_id"] = "\(message.messageId)"
        logger[metadataKey: "consumer.receive_count"] = "\(message.receiveCount)"
        logger.debug("Message received")
        let started = ContinuousClock.now
        // Kept invisible while processed (and retried after transient failures), so that it
        // is not delivered to a second consumer meanwhile.
        let token = keeper?.begin(message, logger: logger)
        let verdict = await self.processRetryingTransientFailures(message, logger: logger)
        token.map { keeper?.end($0) }
        switch verdict {
        case .processed(let outcome):
            self.processor.reportDone(message, started: started)
            await self.delete(message, outcome: outcome, logger: logger)
        case .permanentFailure(let error):
            self.processor.reportDone(message, started: started, failure: error)
            logger.error(
                "Message cannot be processed; left for the dead-letter queue",
                metadata: ["consumer.error": "\(error)", "consumer.stage": "\(error.stage.rawValue)"])
        case .handBack(let delaySeconds):
            await self.retryLater(message, afterSeconds: delaySeconds, logger: logger)
        }
    }

    private enum Verdict {
        case processed(ProcessingOutcome)
        case permanentFailure(MessageProcessingError)
        /// Transient failures went on until shutdown or the hold limit: give the message back.
        case handBack(delaySeconds: Int)
    }

    private func processRetryingTransientFailures(_ message: QueueMessage, logger: Logger) async -> Verdict {
        let clock = ContinuousClock()
        let holdEnds = clock.now + self.configuration.maximumTransientHold
        // Failures so far: the receives before this one, and hand-backs the queue did not count.
        var attempt = message.receiveCount + message.transientFailures - 1
        while true {
            let error: MessageProcessingError
            do throws(MessageProcessingError) {
                return .processed(try await self.processor.process(message, logger: logger))
            } catch let failure {
                error = failure
            }
            guard error.kind == .transient else { return .permanentFailure(error) }
            attempt += 1
            let delay = self.configuration.retryBackoff.delay(afterAttempt: attempt)
            let delaySeconds = self.configuration.retryBackoff.delaySeconds(afterAttempt: attempt)
            logger.warning(
                "Message processing failed; retrying later",
                metadata: [
                    "consumer.error": "\(error)", "consumer.stage": "\(error.stage.rawValue)", "consumer.retry.delay_seconds": "\(delaySeconds)",
                    "consumer.retry.attempt": "\(attempt)",
                ])
            if Self.isStopping || clock.now + delay > holdEnds { return .handBack(delaySeconds: delaySeconds) }
            do {
                try await cancelWhenGracefulShutdown { [sleep = self.sleep] in try await sleep(delay) }
            } catch {
                return .handBack(delaySeconds: delaySeconds)
            }
            if Self.isStopping { return .handBack(delaySeconds: delaySeconds) }
        }
    }

    private func delete(_ message: QueueMessage, outcome: ProcessingOutcome, logger: Logger) async {
        do {
            try await self.queue.delete(receiptHandle: message.receiptHandle)
        } catch {
            // Everything was published and recorded in the publish ledger; the redelivery
            // finds every publish there and publishes nothing.
            logger.warning("Deleting a processed message failed; it will be redelivered", metadata: ["consumer.error": "\(error)"])
            return
        }
        switch outcome {
        case .processed(let publishedCount):
            logger.debug("Message processed and deleted", metadata: ["consumer.published": "\(publishedCount)"])
        case .testEvent:
            logger.info("S3 test event deleted")
        }
    }

    private func retryLater(_ message: QueueMessage, afterSeconds delay: Int, logger: Logger) async {
        do {
            try await self.queue.retryLater(receiptHandle: message.receiptHandle, visibilityTimeout: delay)
            logger.info("Message handed back to the queue for a later retry", metadata: ["consumer.retry.delay_seconds": "\(delay)"])
        } catch {
            logger.warning(
                "Handing back a failed message failed; it reappears after its visibility timeout",
                metadata: ["consumer.error": "\(error)"])
        }
    }
}
