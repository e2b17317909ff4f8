/// How the consumer polls, how much it does at once, and how it backs off.
public struct ConsumerConfiguration: Sendable {
    /// Messages processed at the same time.
    public var concurrency: Int
    /// Long-poll wait per receive, in seconds (SQS allows 0...20).
    public var pollWaitTime: Int
    /// Seconds a received message stays hidden from other consumers while it is processed.
    public var visibilityTimeout: Int
    /// Hides a message that failed for a transient reason (object store or topic unavailable) for
    /// `delay(afterAttempt: receiveCount)` before it is received again.
    public var retryBackoff: RetryBackoff
    /// Waits between receives after the queue itself failed, by consecutive failures.
    public var receiveFailureBackoff: RetryBackoff

    public init(
        concurrency: Int = 4,
        pollWaitTime: Int = 20,
        visibilityTimeout: Int = 60,
        retryBackoff: RetryBackoff = RetryBackoff(base: .seconds(30), maximum: .seconds(900)),
        receiveFailureBackoff: RetryBackoff = RetryBackoff(base: .seconds(1), maximum: .seconds(30))
    ) {
        precondition(concurrency >= 1, "concurrency must be at least 1")
        precondition((0...20).contains(pollWaitTime), "poll wait must be 0...20 seconds")
        precondition(visibilityTimeout >= 0, "visibility timeout must not be negative")
        self.concurrency = concurrency
        self.pollWaitTime = pollWaitTime
        self.visibilityTimeout = visibilityTimeout
        self.retryBackoff = retryBackoff
        self.receiveFailureBackoff = receiveFailureBackoff
    }
}
