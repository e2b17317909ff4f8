import Foundation
import NIOCore
import SMTPCore

/// What the handler passes to the connection's async side, in order: the text of every
/// message it does not hand to a `DirectMessageSink` itself.
enum SMTPConnectionEvent: Sendable {
    /// Message text (dot-stuffing removed), in order.
    case messageText(ByteBuffer)
    /// The text is complete: deliver it with this envelope and answer with an `SMTPDeliveryOutcome`.
    case messageCompleted(SMTPEnvelope, receivedAt: Date)
    /// The text will not be delivered (over the size limit, or the connection dropped).
    case messageDiscarded
}

/// The async side's answer to `messageCompleted`, written back through the pipeline.
enum SMTPDeliveryOutcome: Sendable {
    case delivered(DeliveryReceipt)
    /// Nothing was acknowledged; the reason is for the log only.
    case failed(reason: String)
}
