import SMTPCore

/// `SessionStateMachine` fed arbitrary command sequences: the input's lines (split at LF, as
/// the line decoder does) are commands, except where the session waits for something else:
/// during DATA a line stands for the message (its length is the size), during delivery its
/// first byte says delivered or failed, during STARTTLS it completes the handshake. Lines
/// `#TIMEOUT` and `#SHUTDOWN` fire those events in any phase. The first input byte picks the configuration.
///
/// Invariants: every reply has a 2xx to 5xx code and no CR or LF inside a line; DATA is
/// accepted (354 and `receiveData`) only after an accepted MAIL and at least one accepted
/// RCPT; a delivered transaction holds only recipients the session accepted, within the
/// limit; nothing is answered after `closeConnection`; STARTTLS only where it is offered.
enum SessionTarget {
    private struct Shadow {
        var mailAccepted = false
        var acceptedRecipients: [Mailbox] = []
        var closed = false
    }

    static func run(_ data: [UInt8]) {
        var input = FuzzInput(data)
        let options = input.byte()
        let configuration = SessionConfiguration(
            hostname: "mx.example.org",
            recipientPolicy: RecipientPolicy(addresses: ["create@example.org", "Invite@EXAMPLE.org"]),
            maximumMessageSize: options & 0x08 == 0 ? 1000 : SessionConfiguration.defaultMaximumMessageSize,
            maximumRecipients: Int(options >> 4 & 0x3) + 1,
            maximumErrors: Int(options >> 6) * 5 + 2,
            tlsAvailable: options & 0x01 != 0,
            requireTLS: options & 0x02 != 0)
        var session = SessionStateMachine(configuration: configuration)
        var shadow = Shadow()
        Self.check(session.connectionEstablished(), after: nil, session: session, shadow: &shadow)

        let lines = input.rest().split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        for rawLine in lines {
            var line = Array(rawLine)
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            let actions: [SessionStateMachine.Action]
            var command: SMTPCommand?
            var transactionEnds = false
            switch session.phase {
            case _ where line == Array("#TIMEOUT".utf8):
                actions = session.timeoutFired()
            case _ where line == Array("#SHUTDOWN".utf8):
                actions = session.shutdownRequested()
            case .receivingData:
                actions = session.dataCompleted(size: line.count * 37)
                transactionEnds = true
            case .delivering:
                actions = session.deliveryFinished(line.first.map { $0 & 1 == 0 } ?? true ? .delivered(messageId: "01FUZZ") : .failed)
            case .startingTLS:
                actions = session.tlsHandshakeCompleted()
                transactionEnds = true
            case .awaitingHello, .ready, .inTransaction, .closed:
                if line.count + 2 > SessionConfiguration.maximumCommandLineLength {
                    actions = session.commandRejected(.lineTooLong)
                } else {
                    do {
                        let parsed = try CommandParser.parse(line)
                        command = parsed
                        actions = session.commandReceived(parsed)
                    } catch {
                        actions = session.commandRejected(error)
                    }
                }
            }
            Self.check(actions, after: command, session: session, shadow: &shadow)
            if transactionEnds {
                shadow.mailAccepted = false
                shadow.acceptedRecipients = []
            }
        }
    }

    private static func check(
        _ actions: [SessionStateMachine.Action], after command: SMTPCommand?, session: SessionStateMachine, shadow: inout Shadow
    ) {
        if shadow.closed {
            require(actions.isEmpty, "actions after closeConnection: \(actions)")
            return
        }
        var replies: [SMTPReply] = []
        for (index, action) in actions.enumerated() {
            switch action {
            case .sendReply(let reply):
                ReplyCheck.requireWellFormed(reply)
                replies.append(reply)
            case .receiveData(let maximumSize):
                require(maximumSize == session.configuration.maximumMessageSize, "DATA limit \(maximumSize)")
                require(command == .data, "receiveData after \(String(describing: command))")
                require(shadow.mailAccepted, "DATA accepted without an accepted MAIL")
                require(!shadow.acceptedRecipients.isEmpty, "DATA accepted without an accepted RCPT")
                require(replies.last?.code == 354, "receiveData without 354 first")
            case .deliver(let transaction):
                require(!transaction.recipients.isEmpty, "a delivery without recipients")
                require(transaction.recipients.count <= session.configuration.maximumRecipients, "more recipients than the limit")
                require(transaction.size <= session.configuration.maximumMessageSize, "delivering a message over the limit")
                require(
                    transaction.recipients.allSatisfy(shadow.acceptedRecipients.contains),
                    "delivering to recipients the session did not accept")
            case .startTLS:
                require(command == .startTLS, "startTLS after \(String(describing: command))")
                require(session.configuration.tlsAvailable && !session.isTLS, "STARTTLS where it is not offered")
                require(replies.last?.code == 220, "startTLS without 220 first")
            case .logTransaction:
                break
            case .closeConnection:
                require(index == actions.count - 1, "actions after closeConnection in one batch: \(actions)")
                require(session.phase == .closed, "closeConnection but the session is \(session.phase)")
                shadow.closed = true
            }
        }
        for reply in replies where reply.code == 354 {
            require(actions.contains(.receiveData(maximumSize: session.configuration.maximumMessageSize)), "354 without receiveData")
        }
        guard let command else { return }
        let accepted = replies.first.map { $0.code / 100 == 2 } ?? false
        switch command {
        case .mail(let path, _) where accepted:
            require(!shadow.mailAccepted, "a second MAIL accepted inside a transaction")
            require(!session.configuration.requireTLS || session.isTLS, "MAIL accepted before STARTTLS although TLS is required")
            if case .mailbox(let mailbox) = path { CommandParserTarget.checkMailbox(mailbox) }
            shadow.mailAccepted = true
            shadow.acceptedRecipients = []
        case .rcpt(let mailbox) where replies.first?.code == 250:
            require(shadow.mailAccepted, "RCPT accepted without MAIL")
            require(
                session.configuration.recipientPolicy.verdict(for: mailbox) == .accepted,
                "RCPT \(mailbox) accepted against the policy")
            if !shadow.acceptedRecipients.contains(mailbox) { shadow.acceptedRecipients.append(mailbox) }
        case .rset, .ehlo, .helo:
            shadow.mailAccepted = false
            shadow.acceptedRecipients = []
        default:
            break
        }
    }
}
