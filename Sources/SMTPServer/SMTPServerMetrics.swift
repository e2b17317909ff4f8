import Metrics
import NIOConcurrencyHelpers
import NIOSSL
import SMTPCore

/// The listener's metrics (swift-metrics API; the process chooses the backend). Labels are
/// reply classes, codes, reasons and TLS versions, never client text.
public enum SMTPServerMetrics {
    /// `# HELP` texts of the listener's metrics, by name (`DescribedMetricsFactory`).
    public static let helpTexts: [String: String] = [
        "cis_smtp_connections_opened_total": "SMTP connections admitted.",
        "cis_smtp_connections_closed_total": "Admitted SMTP connections closed.",
        "cis_smtp_connections_active": "Admitted SMTP connections open now.",
        "cis_smtp_connections_refused_total": "SMTP connections refused before a session, by reason.",
        "cis_smtp_tls_handshakes_total": "Completed STARTTLS handshakes, by TLS version.",
        "cis_smtp_tls_handshake_failures_total": "STARTTLS handshakes that failed, timed out or were dropped.",
        "cis_smtp_transactions_started_total": "Transactions started (MAIL FROM accepted).",
        "cis_smtp_transactions_completed_total": "Messages answered 250.",
        "cis_smtp_transactions_aborted_total": "Transactions ended otherwise (RSET, too large, 451, connection lost).",
        "cis_smtp_replies_total": "SMTP replies sent, by code class and enhanced status code.",
        "cis_smtp_message_size_bytes": "Size of each message answered 250, in bytes.",
        "cis_smtp_message_recipients": "Recipients of each message answered 250.",
        "cis_smtp_data_to_reply_seconds": "End of DATA to the reply (storing and queueing the message), in seconds.",
    ]

    static let connectionsOpened = Counter(label: "cis_smtp_connections_opened_total")
    static let connectionsClosed = Counter(label: "cis_smtp_connections_closed_total")
    static let connectionsActive = Meter(label: "cis_smtp_connections_active")
    static let tlsHandshakeFailures = Counter(label: "cis_smtp_tls_handshake_failures_total")
    static let transactionsStarted = Counter(label: "cis_smtp_transactions_started_total")
    static let transactionsCompleted = Counter(label: "cis_smtp_transactions_completed_total")
    static let transactionsAborted = Counter(label: "cis_smtp_transactions_aborted_total")
    static let messageSize = Recorder(label: "cis_smtp_message_size_bytes")
    static let messageRecipients = Recorder(label: "cis_smtp_message_recipients")
    /// From the final dot to the reply (250 or 451): storing and queueing the message.
    static let dataToReply = Timer(label: "cis_smtp_data_to_reply_seconds")

    static func connectionOpened() {
        Self.connectionsOpened.increment()
        Self.connectionsActive.increment()
    }

    static func connectionClosed() {
        Self.connectionsClosed.increment()
        Self.connectionsActive.decrement()
    }

    static func tlsHandshakeFailed() { Self.tlsHandshakeFailures.increment() }
    static func transactionStarted() { Self.transactionsStarted.increment() }
    static func transactionAborted() { Self.transactionsAborted.increment() }

    static func repliedToData(afterNanoseconds nanoseconds: Int64) {
        Self.dataToReply.recordNanoseconds(nanoseconds)
    }

    static func connectionRefused(_ admission: ConnectionLimiter.Admission) {
        let reason: String
        switch admission {
        case .admitted: return
        case .tooManyConnections: reason = "max_connections"
        case .tooManyFromNetwork: reason = "max_connections_per_network"
        case .connectionRateExceeded: reason = "connection_rate"
        }
        Counter(label: "cis_smtp_connections_refused_total", dimensions: [("reason", reason)]).increment()
    }

    /// A connection closed by the PROXY protocol handler before any session: from an
    /// untrusted peer, without a whole header in time, or with an invalid one.
    static func proxyConnectionRefused(_ error: ProxyHeaderError?) {
        let reason: String
        switch error?.kind {
        case nil: reason = "proxy_untrusted"
        case .timeout: reason = "proxy_header_timeout"
        default: reason = "proxy_header_invalid"
        }
        Counter(label: "cis_smtp_connections_refused_total", dimensions: [("reason", reason)]).increment()
    }

    static func tlsHandshake(_ version: TLSVersion?) {
        let name: String
        switch version {
        case .tlsv1: name = "TLSv1"
        case .tlsv11: name = "TLSv1.1"
        case .tlsv12: name = "TLSv1.2"
        case .tlsv13: name = "TLSv1.3"
        case nil: name = "unknown"
        }
        Counter(label: "cis_smtp_tls_handshakes_total", dimensions: [("version", name)]).increment()
    }

    static func reply(_ reply: SMTPReply) {
        Self.replyCounter(class: reply.code / 100, enhancedCode: reply.enhancedCode).increment()
    }

    private struct ReplyKind: Hashable {
        var replyClass: Int
        var enhancedCode: EnhancedStatusCode?
    }

    /// One counter per reply kind, made once: every reply (four or five per message) would
    /// otherwise format its labels and look the counter up in the metrics factory.
    private static let replyCounters = NIOLockedValueBox<[ReplyKind: Counter]>([:])

    private static func replyCounter(class replyClass: Int, enhancedCode: EnhancedStatusCode?) -> Counter {
        let kind = ReplyKind(replyClass: replyClass, enhancedCode: enhancedCode)
        if let counter = Self.replyCounters.withLockedValue({ $0[kind] }) { return counter }
        let counter = Counter(
            label: "cis_smtp_replies_total",
            dimensions: [("class", "\(replyClass)xx"), ("enhanced_code", enhancedCode.map { "\($0)" } ?? "")])
        Self.replyCounters.withLockedValue { $0[kind] = counter }
        return counter
    }

    static func transactionLogged(_ record: SMTPTransactionRecord) {
        if record.outcome == .delivered {
            Self.transactionsCompleted.increment()
            Self.messageSize.record(record.size)
            Self.messageRecipients.record(record.recipientCount)
        } else {
            Self.transactionsAborted.increment()
        }
    }
}
