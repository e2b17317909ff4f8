import AWS
import Backends
import Operations

/// The status page's view of an SQS dead-letter queue: its depth (GetQueueAttributes) and up to
/// `maximumSQSDeadLetterPeeks` × 10 of its messages, received with a visibility timeout of 0,
/// so they stay visible to `cis dlq redrive` and are never deleted or hidden here.
enum SQSDeadLetterPeek {
    /// - Parameters:
    ///   - timeout: for each SQS call.
    ///   - reason: the failure reason the activity log knows for a stored message id.
    static func list(
        _ queue: SQSMessageQueue, timeout: Duration, reason: (String) -> String?
    ) async throws -> DeadLetterList {
        let depth = try await queue.sqs.queueDepth(queueURL: queue.queueURL, timeout: timeout)
        var seen: Set<String> = []
        var messages: [SQSClient.Message] = []
        var peeks = 0
        while peeks < OperationsConfiguration.maximumSQSDeadLetterPeeks, messages.count < depth.total {
            peeks += 1
            let batch = try await queue.sqs.peekMessages(queueURL: queue.queueURL, maxMessages: 10, timeout: timeout)
            let new = batch.filter { seen.insert($0.messageId).inserted }
            // SQS samples its servers: a peek that brings nothing new ends the look.
            if new.isEmpty { break }
            messages += new
        }
        let entries = messages.map { message in
            let receives = message.attributes["ApproximateReceiveCount"].flatMap { Int($0) } ?? 0
            let messageId = OperationsSetup.storedMessageId(notification: message.body)
            return DeadLetterList.Entry(
                queueMessageId: message.messageId, messageId: messageId, receiveCount: receives, deadLetteredAt: nil,
                reason: messageId.flatMap(reason)
                    ?? "Moved here by the queue's redrive policy after \(receives) receives without success; each error is in the consumer's log (\"Message cannot be processed\").")
        }
        let note =
            "\(depth.total) messages in the SQS dead-letter queue (\(depth.visible) visible, \(depth.inFlight) in flight); "
            + "\(entries.count) shown, peeked at without hiding or deleting them (each look adds one to a message's receive count). "
            + "Send them back with `cis dlq redrive`."
        return DeadLetterList(note: note, deadLetters: entries)
    }
}
