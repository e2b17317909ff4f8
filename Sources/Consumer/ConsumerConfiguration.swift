/// How the consumer polls, how much it does at once, and how it backs off.
public struct ConsumerConfiguration: Sendable {
    /// Messages parsed at the same time (parse workers). Up to `receiveBatchSize` times as many
    /// are in flight (received, not yet deleted), so that the index writes, topic appends and
    /// deletes of many messages share one commit each while these are parsed.
    public var concurrency: Int
    /// Long-poll wait per receive, in seconds (SQS allows 0...20).
    public var pollWaitTime: Int
    /// Seconds a received message stays hidden from other consumers while it is processed.
    public var visibilityTimeout: Int
    /// Waits before processing a message again after a transient failure (object store, topic
    /// or event index unavailable): `delay(afterAttempt: failures so far)`.
    public var retryBackoff: RetryBackoff
    /// How long the worker keeps retrying a message after transient failures before it hands
    /// it back to the queue (it also does at graceful shutdown).
    public var maximumTransientHold: Duration
    /// Waits between receives after the queue itself failed, by consecutive failures.
    public var receiveFailureBackoff: RetryBackoff

    public static let defaultConcurrency = 4
    /// Messages one receive asks for: SQS's maximum for `ReceiveMessage` and the batch calls.
    public static let receiveBatchSize = 10
    public static let concurrencyRange = 1...64
    public static let defaultPollWaitTime = 20
    /// SQS's own bounds for `WaitTimeSeconds`.
    public static let pollWaitTimeRange = 0...20
    public static let defaultVisibilityTimeout = 60
    /// SQS's own bounds for a visibility timeout (12 hours).
    public static let visibilityTimeoutRange = 1...43_200
    /// While a message is processed its visibility is extended every `1/visibilityExtensionDivisor`
    /// of the visibility timeout, so a slow message is not delivered to a second consumer.
    public static let visibilityExtensionDivisor = 3
    /// The first retry delay after a transient failure, in seconds; doubled per receive up to
    /// `maximumRetryDelay`.
    public static let defaultRetryDelay = 30
    public static let maximumRetryDelay = 900
    public static let retryDelayRange = 1...maximumRetryDelay
    public static let defaultRetryBackoff = RetryBackoff(base: .seconds(defaultRetryDelay), maximum: .seconds(maximumRetryDelay))
    public static let defaultReceiveFailureBackoff = RetryBackoff(base: .seconds(1), maximum: .seconds(30))
    /// SQS refuses to keep a message invisible longer than 12 hours after its receive; the hold
    /// ends an hour before at most, so that the message is handed back rather than lapsing to
    /// another consumer. Every hand-back on SQS costs a receive: with the default an outage
    /// dead-letters a message only after about `maxReceiveCount` × 11 hours.
    public static let defaultTransientHoldSeconds = 11 * 3600
    /// 0: hand the message back after its first transient failure.
    public static let transientHoldRange = 0...defaultTransientHoldSeconds
    public static let defaultMaximumTransientHold = Duration.seconds(defaultTransientHoldSeconds)

    /// Messages received and not yet deleted, at most.
    public var maximumInFlight: Int {
        self.concurrency * Self.receiveBatchSize
    }

    /// Free places in flight the poll loop waits for before it receives: a whole receive batch
    /// (so that a receive is not spent on one message each time one finishes, which costs a
    /// round trip per message on SQS), or half the places when fewer than two batches fit.
    public var minimumReceive: Int {
        min(Self.receiveBatchSize, max(1, self.maximumInFlight / 2))
    }

    public init(
        concurrency: Int = Self.defaultConcurrency,
        pollWaitTime: Int = Self.defaultPollWaitTime,
        visibilityTimeout: Int = Self.defaultVisibilityTimeout,
        retryBackoff: RetryBackoff = Self.defaultRetryBackoff,
        receiveFailureBackoff: RetryBackoff = Self.defaultReceiveFailureBackoff,
        maximumTransientHold: Duration = Self.defaultMaximumTransientHold
    ) {
        precondition(concurrency >= 1, "concurrency must be at least 1")
        precondition(Self.pollWaitTimeRange.contains(pollWaitTime), "poll wait must be 0...20 seconds")
        precondition(visibilityTimeout >= 0, "visibility timeout must not be negative")
        self.concurrency = concurrency
        self.pollWaitTime = pollWaitTime
        self.visibilityTimeout = visibilityTimeout
        self.retryBackoff = retryBackoff
        self.receiveFailureBackoff = receiveFailureBackoff
        self.maximumTransientHold = maximumTransientHold
    }
}
