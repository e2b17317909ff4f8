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
}

public struct QueueMessage: Sendable, Equatable {
    public var messageId: String
    public var body: String
    public var receiptHandle: String
    /// How many times the message has been received, this receive included (SQS ApproximateReceiveCount).
    public var receiveCount: Int

    public init(messageId: String, body: String, receiptHandle: String, receiveCount: Int) {
        self.messageId = messageId
        self.body = body
        self.receiptHandle = receiptHandle
        self.receiveCount = receiveCount
    }
}
