import AWS

/// `MessageQueue` on an SQS queue (its redrive policy provides the dead-letter queue).
///
/// SQS counts every receive toward the redrive policy's `maxReceiveCount`, so `retryLater`
/// cannot uncount one: it only hides the message. The consumer therefore retries transient
/// failures while it holds the message (see `ConsumerService`), and hands it back only after
/// hours or at shutdown.
public struct SQSMessageQueue: MessageQueue {
    public let sqs: SQSClient
    public let queueURL: String
    /// Gathers `send`s into `SendMessageBatch` calls; nil: each `send` is its own `SendMessage`.
    private let sendBatcher: SQSSendBatcher?

    /// - Parameter sendBatchWindow: how long a sent message waits for others to share its
    ///   `SendMessageBatch` call; nil or zero: no batching.
    public init(sqs: SQSClient, queueURL: String, sendBatchWindow: Duration? = nil) {
        self.sqs = sqs
        self.queueURL = queueURL
        self.sendBatcher = sendBatchWindow.flatMap {
            $0 > .zero ? SQSSendBatcher(sqs: sqs, queueURL: queueURL, window: $0) : nil
        }
    }

    public func send(body: String) async throws -> String {
        if let batcher = self.sendBatcher {
            return try await mappingAWSErrors(backend: "sqs", operation: "SendMessageBatch") {
                try await batcher.send(body: body)
            }
        }
        return try await mappingAWSErrors(backend: "sqs", operation: "SendMessage") {
            try await self.sqs.sendMessage(queueURL: self.queueURL, body: body)
        }
    }

    public func receive(maxMessages: Int, visibilityTimeout: Int, waitTime: Int) async throws -> [QueueMessage] {
        let messages = try await mappingAWSErrors(backend: "sqs", operation: "ReceiveMessage") {
            try await self.sqs.receiveMessage(
                queueURL: self.queueURL, maxMessages: min(max(maxMessages, 1), 10), visibilityTimeout: visibilityTimeout,
                waitTime: min(max(waitTime, 0), 20))
        }
        return messages.map {
            QueueMessage(
                messageId: $0.messageId, body: $0.body, receiptHandle: $0.receiptHandle,
                receiveCount: Int($0.attributes["ApproximateReceiveCount"] ?? "") ?? 1)
        }
    }

    public func delete(receiptHandle: String) async throws {
        try await mappingAWSErrors(backend: "sqs", operation: "DeleteMessage") {
            try await self.sqs.deleteMessage(queueURL: self.queueURL, receiptHandle: receiptHandle)
        }
    }

    public func retryLater(receiptHandle: String, visibilityTimeout: Int) async throws {
        try await self.changeVisibility(receiptHandle: receiptHandle, visibilityTimeout: visibilityTimeout)
    }

    public func changeVisibility(receiptHandle: String, visibilityTimeout: Int) async throws {
        try await mappingAWSErrors(backend: "sqs", operation: "ChangeMessageVisibility") {
            try await self.sqs.changeMessageVisibility(
                queueURL: self.queueURL, receiptHandle: receiptHandle, visibilityTimeout: visibilityTimeout)
        }
    }
}
