import Foundation
import Operations
import SMTPCore

/// The intake's sink with every result also written to the status page's activity log.
struct ActivityRecordingSink: MessageSink {
    let sink: any MessageSink
    let activity: ActivityLog

    func deliver(_ message: ReceivedMessage) async throws -> DeliveryReceipt {
        let started = ContinuousClock.now
        let envelope = message.envelope
        func record(_ messageId: String?, failure: String?) {
            self.activity.record(
                IntakeActivity(
                    messageId: messageId, receivedAt: message.receivedAt, clientAddress: envelope.clientAddress,
                    envelopeSender: envelope.mailFrom.isEmpty ? "<>" : envelope.mailFrom, size: message.content.size,
                    recipients: envelope.recipients.count, tls: envelope.tls, latency: ContinuousClock.now - started, failure: failure))
        }
        do {
            let receipt = try await self.sink.deliver(message)
            record(receipt.messageId, failure: nil)
            return receipt
        } catch {
            record(nil, failure: "not stored, answered 451: \(error)")
            throw error
        }
    }
}
