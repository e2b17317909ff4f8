/// A mail transaction whose DATA is complete: what the listener turns into an envelope.
public struct SMTPTransaction: Sendable, Hashable {
    public var heloName: String
    /// EHLO (not HELO) opened the session.
    public var esmtp: Bool
    public var reversePath: ReversePath
    public var parameters: MailParameters
    /// Accepted forward paths, in order, without duplicates.
    public var recipients: [Mailbox]
    /// The transaction ran inside TLS.
    public var tls: Bool
    /// Octets of message text after dot-unstuffing.
    public var size: Int

    public init(
        heloName: String, esmtp: Bool, reversePath: ReversePath, parameters: MailParameters,
        recipients: [Mailbox], tls: Bool, size: Int
    ) {
        self.heloName = heloName
        self.esmtp = esmtp
        self.reversePath = reversePath
        self.parameters = parameters
        self.recipients = recipients
        self.tls = tls
        self.size = size
    }
}

/// One finished transaction, for the one log line per transaction.
public struct SMTPTransactionRecord: Sendable, Hashable {
    public enum Outcome: String, Sendable, Hashable {
        case delivered
        case rejectedTooLarge = "rejected-too-large"
        case deliveryFailed = "delivery-failed"
    }

    public var outcome: Outcome
    public var messageId: String?
    public var size: Int
    public var recipientCount: Int
    public var tls: Bool
    public var reply: SMTPReply

    public init(outcome: Outcome, messageId: String?, size: Int, recipientCount: Int, tls: Bool, reply: SMTPReply) {
        self.outcome = outcome
        self.messageId = messageId
        self.size = size
        self.recipientCount = recipientCount
        self.tls = tls
        self.reply = reply
    }
}
