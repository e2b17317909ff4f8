/// A queue with SQS semantics: at-least-once delivery, a visibility timeout per
/// receive, deletion by receipt handle, a receive count, and a dead-letter queue
/// for messages received more than a maximum number of times.
///
/// Implementations: the embedded SQLite queue (`<data-dir>/queue.sqlite`) and SQS.
public protocol MessageQueue: Sendable {
    /// Enqueues `body`; returns the message id once the message is durable.
    func send(body: String) async throws -> String

    /// Up to `maxMessages` (1...10) messages, each hidden from other receivers for
    /// `visibilityTimeout` seconds. Waits up to `waitTime` seconds for at least one
    /// message (long polling); returns an empty array when none arrived.
    func receive(maxMessages: Int, visibilityTimeout: Int, waitTime: Int) async throws -> [QueueMessage]

    /// Removes a received message for good. Unknown or stale receipt handles throw `BackendError`.
    func delete(receiptHandle: String) async throws

    /// Makes a received message visible again after `visibilityTimeout` seconds from now (0: at once).
    func changeVisibility(receiptHandle: String, visibilityTimeout: Int) async throws

    /// Hands a received message back after a transient failure (a backend unavailable, not the
    /// message at fault): visible again after `visibilityTimeout` seconds and, where the queue
    /// allows it, with this receive not counted toward the dead-letter limit. The embedded queue
    /// uncounts it; SQS counts every receive (there this is `changeVisibility`).
    func retryLater(receiptHandle: String, visibilityTimeout: Int) async throws
}

public struct QueueMessage: Sendable, Equatable {
    public var messageId: String
    public var body: String
    public var receiptHandle: String
    /// How many times the message has been received, this receive included (SQS
    /// ApproximateReceiveCount); receives handed back by `retryLater` are not counted where the
    /// queue allows it.
    public var receiveCount: Int
    /// How many times the message was handed back by `retryLater` (0 on SQS, where they are in `receiveCount`).
    public var transientFailures: Int

    public init(messageId: String, body: String, receiptHandle: String, receiveCount: Int, transientFailures: Int = 0) {
        self.messageId = messageId
        self.body = body
        self.receiptHandle = receiptHandle
        self.receiveCount = receiveCount
        self.transientFailures = transientFailures
    }
}
