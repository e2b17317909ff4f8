/// Moves messages from an SQS dead-letter queue back to the queue it serves: receive from the
/// dead-letter queue, send the body to the main queue, then delete it from the dead-letter
/// queue (a crash between the two leaves a copy in both; the consumer's publish ledger makes
/// the second one publish nothing).
public struct SQSDeadLetterRedrive: Sendable {
    public let deadLetters: SQSMessageQueue
    public let queue: SQSMessageQueue

    /// Messages moved per run at most, so a run always ends.
    public static let maximumMessages = 10_000
    /// Seconds a message received from the dead-letter queue stays hidden while the run goes on;
    /// those not moved are made visible again when it ends.
    static let scanVisibilityTimeout = 30

    public init(deadLetters: SQSMessageQueue, queue: SQSMessageQueue) {
        self.deadLetters = deadLetters
        self.queue = queue
    }

    /// Moves every message (`messageId` nil) or the one with `messageId`, until the
    /// dead-letter queue returns none or `maximumMessages` were seen; returns the dead-letter
    /// message ids moved, each with its new message id on the main queue.
    public func redrive(messageId: String?) async throws -> [(deadLetterId: String, newId: String)] {
        var moved: [(String, String)] = []
        var passedOver: [String] = []
        var seen = 0
        while seen < Self.maximumMessages {
            let messages = try await self.deadLetters.receive(
                maxMessages: min(10, Self.maximumMessages - seen), visibilityTimeout: Self.scanVisibilityTimeout, waitTime: 1)
            if messages.isEmpty { break }
            seen += messages.count
            for message in messages {
                guard messageId == nil || message.messageId == messageId else {
                    passedOver.append(message.receiptHandle)
                    continue
                }
                let newId = try await self.queue.send(body: message.body)
                try await self.deadLetters.delete(receiptHandle: message.receiptHandle)
                moved.append((message.messageId, newId))
            }
            if messageId != nil && !moved.isEmpty { break }
        }
        // The others stay where they were, visible again at once.
        for receiptHandle in passedOver {
            try? await self.deadLetters.changeVisibility(receiptHandle: receiptHandle, visibilityTimeout: 0)
        }
        return moved
    }
}
