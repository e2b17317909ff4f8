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
    /// Gather concurrent calls into `SendMessageBatch`, `DeleteMessageBatch` and
    /// `ChangeMessageVisibilityBatch` calls; nil: each call is its own request.
    private let sendBatcher: SQSRequestBatcher<String, String>?
    private let deleteBatcher: SQSRequestBatcher<String, Void>?
    private let visibilityBatcher: SQSRequestBatcher<SQSClient.VisibilityChange, Void>?

    /// - Parameter batchWindow: how long a sent message, a delete or a visibility change waits
    ///   for others to share its batch call; nil or zero: no batching.
    public init(sqs: SQSClient, queueURL: String, batchWindow: Duration? = nil) {
        self.sqs = sqs
        self.queueURL = queueURL
        guard let window = batchWindow, window > .zero else {
            self.sendBatcher = nil
            self.deleteBatcher = nil
            self.visibilityBatcher = nil
            return
        }
        self.sendBatcher = SQSRequestBatcher(window: window, bytes: { $0.utf8.count }) { bodies in
            try await sqs.sendMessageBatch(queueURL: queueURL, bodies: bodies)
        }
        self.deleteBatcher = SQSRequestBatcher(window: window, bytes: { $0.utf8.count }) { receiptHandles in
            try await sqs.deleteMessageBatch(queueURL: queueURL, receiptHandles: receiptHandles)
        }
        self.visibilityBatcher = SQSRequestBatcher(window: window, bytes: { $0.receiptHandle.utf8.count }) { changes in
            try await sqs.changeMessageVisibilityBatch(queueURL: queueURL, changes: changes)
        }
    }

    public func send(body: String) async throws -> String {
        if let batcher = self.sendBatcher {
            return try await mappingAWSErrors(backend: "sqs", operation: "SendMessageBatch") {
                try await batcher.submit(body)
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
        if let batcher = self.deleteBatcher {
            return try await mappingAWSErrors(backend: "sqs", operation: "DeleteMessageBatch") {
                try await batcher.submit(receiptHandle)
            }
        }
        try await mappingAWSErrors(backend: "sqs", operation: "DeleteMessage") {
            try await self.sqs.deleteMessage(queueURL: self.queueURL, receiptHandle: receiptHandle)
        }
    }

    public func retryLater(receiptHandle: String, visibilityTimeout: Int) async throws {
        try await self.changeVisibility(receiptHandle: receiptHandle, visibilityTimeout: visibilityTimeout)
    }

    public func changeVisibility(receiptHandle: String, visibilityTimeout: Int) async throws {
        if let batcher = self.visibilityBatcher {
            return try await mappingAWSErrors(backend: "sqs", operation: "ChangeMessageVisibilityBatch") {
                try await batcher.submit(SQSClient.VisibilityChange(receiptHandle: receiptHandle, visibilityTimeout: visibilityTimeout))
            }
        }
        try await mappingAWSErrors(backend: "sqs", operation: "ChangeMessageVisibility") {
            try await self.sqs.changeMessageVisibility(
                queueURL: self.queueURL, receiptHandle: receiptHandle, visibilityTimeout: visibilityTimeout)
        }
    }
}
