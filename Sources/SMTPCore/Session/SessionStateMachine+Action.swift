extension SessionStateMachine {
    /// What the listener must do, in order, after an event.
    public enum Action: Sendable, Hashable {
        case sendReply(SMTPReply)
        /// Switch to reading message text: hand further bytes to a `DataDecoder` with this limit.
        case receiveData(maximumSize: Int)
        /// Discard every byte received after the STARTTLS line and start the TLS handshake.
        /// Comes right after the `220 2.0.0` reply, which must be sent first, in plaintext.
        case startTLS
        /// Hand the message to the sink; report with `deliveryFinished`. Read no further
        /// commands until then.
        case deliver(SMTPTransaction)
        /// Record one finished transaction (one log line).
        case logTransaction(SMTPTransactionRecord)
        /// Close after sending what came before.
        case closeConnection
    }

    /// How the sink handled a message.
    public enum DeliveryOutcome: Sendable, Hashable {
        case delivered(messageId: String)
        case failed
    }
}
