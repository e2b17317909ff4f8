import Foundation
import Operations
import SMTPCore

/// The intake's sink with every result also written to the status page's activity log.
struct ActivityRecordingSink: DirectMessageSink {
    let sink: any MessageSink
    let activity: ActivityLog
    /// `sink` when it has a direct path (cast once here, not per message).
    private let directSink: (any DirectMessageSink)?

    init(sink: any MessageSink, activity: ActivityLog) {
        self.sink = sink
        self.activity = activity
        self.directSink = sink as? any DirectMessageSink
    }

    func deliver(_ message: ReceivedMessage) async throws -> DeliveryReceipt {
        let started = ContinuousClock.now
        do {
            let receipt = try await self.sink.deliver(message)
            self.record(message, .success(receipt), started: started)
            return receipt
        } catch {
            self.record(message, .failure(error), started: started)
            throw error
        }
    }

    var deliversDirectly: Bool { self.directSink?.deliversDirectly ?? false }

    func submit(_ message: ReceivedMessage, completion: @escaping @Sendable (Result<DeliveryReceipt, any Error>) -> Void) {
        let started = ContinuousClock.now
        guard let sink = self.directSink else {
            self.deliverInTask(message, completion: completion)
            return
        }
        sink.submit(message) { result in
            self.record(message, result, started: started)
            completion(result)
        }
    }

    private func record(_ message: ReceivedMessage, _ result: Result<DeliveryReceipt, any Error>, started: ContinuousClock.Instant) {
        let envelope = message.envelope
        var messageId: String?
        var failure: String?
        switch result {
        case .success(let receipt): messageId = receipt.messageId
        case .failure(let error): failure = "not stored, answered 451: \(error)"
        }
        self.activity.record(
            IntakeActivity(
                messageId: messageId, receivedAt: message.receivedAt, clientAddress: envelope.clientAddress,
                envelopeSender: envelope.mailFrom.isEmpty ? "<>" : envelope.mailFrom, size: message.content.size,
                recipients: envelope.recipients.count, tls: envelope.tls, latency: ContinuousClock.now - started, failure: failure))
    }
}
