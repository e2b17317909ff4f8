/// The SMTP session (RFC 5321 §4.1.4 ordering, RFC 3207 STARTTLS, RFC 2920 pipelining),
/// as a value: events in, actions out, no I/O.
public struct SessionStateMachine: Sendable {
    public enum Phase: Sendable, Hashable {
        /// Waiting for EHLO or HELO (at the start and again after STARTTLS).
        case awaitingHello
        /// Greeted, no transaction open.
        case ready
        /// MAIL accepted; recipients are being added.
        case inTransaction
        /// 354 sent; message text is being read.
        case receivingData
        /// Message text complete; waiting for the sink.
        case delivering
        /// 220 2.0.0 sent; waiting for the TLS handshake.
        case startingTLS
        case closed
    }

    private struct Hello: Sendable {
        var name: String
        var esmtp: Bool
    }

    private struct OpenTransaction: Sendable {
        var reversePath: ReversePath
        var parameters: MailParameters
        var recipients: [Mailbox] = []
    }

    public let configuration: SessionConfiguration
    public private(set) var phase: Phase = .awaitingHello
    public private(set) var isTLS = false
    /// Failed commands so far, towards `configuration.maximumErrors`.
    public private(set) var errorCount = 0
    /// NOOP, RSET, VRFY and HELP so far; past `configuration.junkCommandLimit` each one also
    /// counts as an error (Postfix's `smtpd_junk_command_limit`).
    public private(set) var junkCommandCount = 0
    private var hello: Hello?
    private var transaction: OpenTransaction?
    private var pendingTransaction: SMTPTransaction?
    /// The reply that ends the session once the message in flight is answered.
    private var closeAfterTransaction: SMTPReply?

    public init(configuration: SessionConfiguration) {
        self.configuration = configuration
    }

    /// Whether the listener should parse command lines now (not during DATA, delivery or the TLS upgrade).
    public var isAcceptingCommands: Bool {
        switch self.phase {
        case .awaitingHello, .ready, .inTransaction: true
        case .receivingData, .delivering, .startingTLS, .closed: false
        }
    }

    // MARK: Events

    public mutating func connectionEstablished() -> [Action] {
        [.sendReply(.greeting(hostname: self.configuration.hostname))]
    }

    /// The listener refused the connection (a connection limit was reached).
    public mutating func connectionRefused(reply: SMTPReply) -> [Action] {
        self.phase = .closed
        return [.sendReply(reply), .closeConnection]
    }

    public mutating func commandReceived(_ command: SMTPCommand) -> [Action] {
        guard self.isAcceptingCommands else { return [] }
        switch command {
        case .ehlo(let name): return self.hello(name: name, esmtp: true)
        case .helo(let name): return self.hello(name: name, esmtp: false)
        case .mail(let path, let parameters): return self.mail(path, parameters)
        case .rcpt(let mailbox): return self.rcpt(mailbox)
        case .data: return self.data()
        case .rset:
            self.transaction = nil
            if self.phase == .inTransaction { self.phase = .ready }
            return self.junk(.ok)
        case .noop: return self.junk(.ok)
        case .vrfy: return self.junk(.cannotVerify)
        case .help: return self.junk(.help(tlsAvailable: self.configuration.tlsAvailable))
        case .quit:
            self.phase = .closed
            return [.sendReply(.bye), .closeConnection]
        case .startTLS: return self.startTLS()
        }
    }

    /// A line that did not parse (or was too long).
    public mutating func commandRejected(_ error: SMTPParserError) -> [Action] {
        guard self.isAcceptingCommands else { return [] }
        return self.fail(.commandRejected(error))
    }

    /// The final `.` arrived. `size` counts the message octets after dot-unstuffing.
    public mutating func dataCompleted(size: Int) -> [Action] {
        guard self.phase == .receivingData, let transaction = self.transaction, let hello = self.hello else {
            return []
        }
        self.transaction = nil
        let tooLarge = size > self.configuration.maximumMessageSize
        if tooLarge {
            self.phase = .ready
            let reply = SMTPReply.messageTooLarge
            let record = SMTPTransactionRecord(
                outcome: .rejectedTooLarge, messageId: nil, size: size,
                recipientCount: transaction.recipients.count, tls: self.isTLS, reply: reply)
            return [.sendReply(reply), .logTransaction(record)] + self.closeIfShuttingDown()
        }
        self.phase = .delivering
        let complete = SMTPTransaction(
            heloName: hello.name, esmtp: hello.esmtp, reversePath: transaction.reversePath,
            parameters: transaction.parameters, recipients: transaction.recipients, tls: self.isTLS, size: size)
        self.pendingTransaction = complete
        return [.deliver(complete)]
    }

    public mutating func deliveryFinished(_ outcome: DeliveryOutcome) -> [Action] {
        guard self.phase == .delivering, let transaction = self.pendingTransaction else { return [] }
        self.pendingTransaction = nil
        self.phase = .ready
        let record: SMTPTransactionRecord
        switch outcome {
        case .delivered(let messageId):
            record = SMTPTransactionRecord(
                outcome: .delivered, messageId: messageId, size: transaction.size,
                recipientCount: transaction.recipients.count, tls: transaction.tls,
                reply: .queued(messageId: messageId))
        case .failed:
            record = SMTPTransactionRecord(
                outcome: .deliveryFailed, messageId: nil, size: transaction.size,
                recipientCount: transaction.recipients.count, tls: transaction.tls, reply: .storageFailed)
        }
        return [.sendReply(record.reply), .logTransaction(record)] + self.closeIfShuttingDown()
    }

    /// The TLS handshake after STARTTLS succeeded: the session starts over (RFC 3207 §4.2).
    public mutating func tlsHandshakeCompleted() -> [Action] {
        guard self.phase == .startingTLS else { return [] }
        self.isTLS = true
        self.hello = nil
        self.transaction = nil
        self.phase = .awaitingHello
        return []
    }

    /// The idle-command, DATA or TLS handshake timer expired (or DATA arrived too slowly).
    /// During the handshake nothing can be sent: plaintext is over and TLS is not up.
    public mutating func timeoutFired() -> [Action] {
        switch self.phase {
        case .closed, .delivering:
            return []
        case .startingTLS:
            self.phase = .closed
            return [.closeConnection]
        case .awaitingHello, .ready, .inTransaction, .receivingData:
            self.phase = .closed
            return [.sendReply(.timeout(hostname: self.configuration.hostname)), .closeConnection]
        }
    }

    /// The session lasted its maximum time. A message being delivered is answered first (its
    /// 250 must reach the client); a message still arriving is dropped unacknowledged.
    public mutating func sessionTimeLimitReached() -> [Action] {
        let reply = SMTPReply.sessionTimeLimit(hostname: self.configuration.hostname)
        switch self.phase {
        case .closed:
            return []
        case .delivering:
            self.closeAfterTransaction = reply
            return []
        case .startingTLS:
            self.phase = .closed
            return [.closeConnection]
        case .awaitingHello, .ready, .inTransaction, .receivingData:
            self.phase = .closed
            return [.sendReply(reply), .closeConnection]
        }
    }

    /// The server is stopping. A message being received or delivered is finished first;
    /// any other session is told 421 at once.
    public mutating func shutdownRequested() -> [Action] {
        switch self.phase {
        case .receivingData, .delivering:
            self.closeAfterTransaction = .shuttingDown(hostname: self.configuration.hostname)
            return []
        case .closed:
            return []
        case .startingTLS:
            self.phase = .closed
            return [.closeConnection]
        case .awaitingHello, .ready, .inTransaction:
            self.phase = .closed
            return [.sendReply(.shuttingDown(hostname: self.configuration.hostname)), .closeConnection]
        }
    }

    public mutating func connectionClosed() {
        self.phase = .closed
    }

    // MARK: Commands

    private mutating func hello(name: String, esmtp: Bool) -> [Action] {
        // A new EHLO/HELO also ends any open transaction (RFC 5321 §4.1.4).
        self.hello = Hello(name: name, esmtp: esmtp)
        self.transaction = nil
        self.phase = .ready
        guard esmtp else {
            return [.sendReply(.helo(hostname: self.configuration.hostname))]
        }
        var extensions = [
            "PIPELINING", "SIZE \(self.configuration.maximumMessageSize)", "8BITMIME", "ENHANCEDSTATUSCODES",
            "SMTPUTF8",
        ]
        if self.configuration.tlsAvailable && !self.isTLS {
            extensions.append("STARTTLS")
        }
        return [
            .sendReply(.ehlo(hostname: self.configuration.hostname, clientName: name, extensions: extensions))
        ]
    }

    private mutating func mail(_ path: ReversePath, _ parameters: MailParameters) -> [Action] {
        guard let hello = self.hello else { return self.fail(.badSequence("send HELO/EHLO first")) }
        guard self.transaction == nil else { return self.fail(.badSequence("nested MAIL command")) }
        if self.configuration.requireTLS && !self.isTLS {
            return self.fail(.tlsRequired)
        }
        if !hello.esmtp && !parameters.isEmpty {
            return self.fail(
                .commandRejected(SMTPParserError(.unsupportedParameter, "MAIL parameters need an EHLO session")))
        }
        if case .mailbox(let mailbox) = path, !mailbox.isASCII, !parameters.smtpUTF8 {
            return self.fail(.utf8AddressNeedsSMTPUTF8)
        }
        if !hello.name.utf8.allSatisfy({ $0 < 0x80 }), !parameters.smtpUTF8 {
            return self.fail(.utf8HelloNeedsSMTPUTF8)
        }
        if let size = parameters.size, size > self.configuration.maximumMessageSize {
            return self.fail(.messageTooLarge)
        }
        self.transaction = OpenTransaction(reversePath: path, parameters: parameters)
        self.phase = .inTransaction
        return [.sendReply(.senderOk)]
    }

    private mutating func rcpt(_ mailbox: Mailbox) -> [Action] {
        guard self.transaction != nil else { return self.fail(.badSequence("need MAIL command")) }
        if !mailbox.isASCII && !(self.transaction?.parameters.smtpUTF8 ?? false) {
            return self.fail(.utf8AddressNeedsSMTPUTF8)
        }
        switch self.configuration.recipientPolicy.verdict(for: mailbox) {
        case .relayDenied: return self.fail(.relayDenied(mailbox))
        case .unknownUser: return self.fail(.unknownUser(mailbox))
        case .accepted: break
        }
        if self.transaction?.recipients.contains(mailbox) == true {
            return [.sendReply(.recipientOk)]
        }
        guard (self.transaction?.recipients.count ?? 0) < self.configuration.maximumRecipients else {
            // RFC 5321 §4.5.3.1.10: the client sends the rest in another transaction; not an error.
            return [.sendReply(.tooManyRecipients)]
        }
        self.transaction?.recipients.append(mailbox)
        return [.sendReply(.recipientOk)]
    }

    private mutating func data() -> [Action] {
        guard let transaction = self.transaction else { return self.fail(.badSequence("need MAIL command")) }
        guard !transaction.recipients.isEmpty else { return self.fail(.badSequence("need RCPT command")) }
        self.phase = .receivingData
        return [.sendReply(.startMailInput), .receiveData(maximumSize: self.configuration.maximumMessageSize)]
    }

    private mutating func startTLS() -> [Action] {
        guard self.configuration.tlsAvailable, !self.isTLS else {
            return self.fail(self.isTLS ? .badSequence("TLS already active") : .tlsNotAvailable)
        }
        guard self.hello != nil else { return self.fail(.badSequence("send EHLO first")) }
        guard self.transaction == nil else { return self.fail(.badSequence("STARTTLS inside a mail transaction")) }
        self.phase = .startingTLS
        return [.sendReply(.readyToStartTLS), .startTLS]
    }

    // MARK: Helpers

    /// Replies with a failure and counts it; past the error limit the session ends with 421.
    private mutating func fail(_ reply: SMTPReply) -> [Action] {
        self.errorCount += 1
        guard self.errorCount >= self.configuration.maximumErrors else {
            return [.sendReply(reply)]
        }
        self.phase = .closed
        return [
            .sendReply(reply), .sendReply(.tooManyErrors(hostname: self.configuration.hostname)), .closeConnection,
        ]
    }

    /// Answers a junk command; past the junk limit it also counts as an error.
    private mutating func junk(_ reply: SMTPReply) -> [Action] {
        self.junkCommandCount += 1
        guard self.junkCommandCount > self.configuration.junkCommandLimit else {
            return [.sendReply(reply)]
        }
        return self.fail(reply)
    }

    private mutating func closeIfShuttingDown() -> [Action] {
        guard let reply = self.closeAfterTransaction else { return [] }
        self.phase = .closed
        return [.sendReply(reply), .closeConnection]
    }
}
