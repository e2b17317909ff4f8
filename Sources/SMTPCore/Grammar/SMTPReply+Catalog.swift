/// Every reply the server sends, in one place, so that codes and texts stay consistent.
extension SMTPReply {
    // MARK: Connection

    public static func greeting(hostname: String) -> SMTPReply {
        SMTPReply(220, nil, "\(hostname) ESMTP")
    }

    public static func ehlo(hostname: String, clientName: String, extensions: [String]) -> SMTPReply {
        SMTPReply(code: 250, enhancedCode: nil, lines: ["\(hostname) greets \(Self.echo(clientName))"] + extensions)
    }

    public static func helo(hostname: String) -> SMTPReply {
        SMTPReply(250, nil, hostname)
    }

    public static let bye = SMTPReply(221, EnhancedStatusCode(2, 0, 0), "Bye")

    public static func timeout(hostname: String) -> SMTPReply {
        SMTPReply(421, EnhancedStatusCode(4, 4, 2), "\(hostname) Error: timeout exceeded")
    }

    public static func sessionTimeLimit(hostname: String) -> SMTPReply {
        SMTPReply(421, EnhancedStatusCode(4, 4, 2), "\(hostname) Error: session time limit exceeded")
    }

    public static func tooManyConnections(hostname: String) -> SMTPReply {
        SMTPReply(421, EnhancedStatusCode(4, 7, 0), "\(hostname) Error: too many connections")
    }

    public static func tooManyConnectionsFromAddress(hostname: String) -> SMTPReply {
        SMTPReply(421, EnhancedStatusCode(4, 7, 0), "\(hostname) Error: too many connections from your network")
    }

    public static func connectionRateExceeded(hostname: String) -> SMTPReply {
        SMTPReply(421, EnhancedStatusCode(4, 7, 0), "\(hostname) Error: too many connections from your network, slow down")
    }

    public static func tooManyErrors(hostname: String) -> SMTPReply {
        SMTPReply(421, EnhancedStatusCode(4, 7, 0), "\(hostname) Error: too many errors")
    }

    public static func shuttingDown(hostname: String) -> SMTPReply {
        SMTPReply(421, EnhancedStatusCode(4, 3, 2), "\(hostname) Service shutting down, closing transmission channel")
    }

    // MARK: Commands

    public static let ok = SMTPReply(250, EnhancedStatusCode(2, 0, 0), "Ok")
    public static let senderOk = SMTPReply(250, EnhancedStatusCode(2, 1, 0), "Ok")
    public static let recipientOk = SMTPReply(250, EnhancedStatusCode(2, 1, 5), "Ok")
    public static let startMailInput = SMTPReply(354, nil, "End data with <CR><LF>.<CR><LF>")
    public static let cannotVerify = SMTPReply(
        252, EnhancedStatusCode(2, 0, 0), "Cannot VRFY user, but will accept message and attempt delivery")
    public static let readyToStartTLS = SMTPReply(220, EnhancedStatusCode(2, 0, 0), "Ready to start TLS")

    public static func help(tlsAvailable: Bool) -> SMTPReply {
        let verbs = ["EHLO", "HELO", "MAIL", "RCPT", "DATA", "RSET", "NOOP", "QUIT", "VRFY", "HELP"]
        return SMTPReply(
            214, EnhancedStatusCode(2, 0, 0),
            "Commands: " + (verbs + (tlsAvailable ? ["STARTTLS"] : [])).joined(separator: " "))
    }

    public static func queued(messageId: String) -> SMTPReply {
        SMTPReply(250, EnhancedStatusCode(2, 0, 0), "Ok: queued as \(messageId)")
    }

    // MARK: Refusals

    public static func unknownUser(_ mailbox: Mailbox) -> SMTPReply {
        SMTPReply(550, EnhancedStatusCode(5, 1, 1), "<\(Self.echo(mailbox.address))>: Recipient address rejected: User unknown")
    }

    public static func relayDenied(_ mailbox: Mailbox) -> SMTPReply {
        SMTPReply(550, EnhancedStatusCode(5, 7, 1), "<\(Self.echo(mailbox.address))>: Relay access denied")
    }

    public static let tooManyRecipients = SMTPReply(452, EnhancedStatusCode(4, 5, 3), "Error: too many recipients")
    public static let messageTooLarge = SMTPReply(
        552, EnhancedStatusCode(5, 3, 4), "Error: message size exceeds fixed maximum message size")
    public static let storageFailed = SMTPReply(
        451, EnhancedStatusCode(4, 3, 0), "Error: message not stored, try again later")
    public static let tlsRequired = SMTPReply(530, EnhancedStatusCode(5, 7, 0), "Must issue a STARTTLS command first")
    public static let tlsNotAvailable = SMTPReply(502, EnhancedStatusCode(5, 5, 1), "Error: STARTTLS not available")
    public static let utf8AddressNeedsSMTPUTF8 = SMTPReply(
        553, EnhancedStatusCode(5, 6, 7), "Error: non-ASCII address requires the SMTPUTF8 parameter")
    public static let utf8HelloNeedsSMTPUTF8 = SMTPReply(
        553, EnhancedStatusCode(5, 6, 7), "Error: non-ASCII EHLO name requires the SMTPUTF8 parameter")

    /// 503 5.5.1: the command is valid but not now.
    public static func badSequence(_ reason: String) -> SMTPReply {
        SMTPReply(503, EnhancedStatusCode(5, 5, 1), "Error: \(reason)")
    }

    /// The reply to a line that did not parse.
    public static func commandRejected(_ error: SMTPParserError) -> SMTPReply {
        switch error.kind {
        case .unknownCommand: SMTPReply(500, EnhancedStatusCode(5, 5, 1), "Error: command not recognized")
        case .lineTooLong: SMTPReply(500, EnhancedStatusCode(5, 5, 2), "Error: line too long")
        case .syntax: SMTPReply(501, EnhancedStatusCode(5, 5, 4), "Syntax error: \(error.reason)")
        case .unsupportedParameter: SMTPReply(555, EnhancedStatusCode(5, 5, 4), "Error: \(error.reason)")
        }
    }

    /// Client text to put into a reply: every control character (C0, DEL, C1) becomes `\xNN`,
    /// so an echoed name can never end a reply line or start a new one.
    public static func echo(_ text: String) -> String {
        var escaped = ""
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || (scalar.value >= 0x7F && scalar.value <= 0x9F) {
                let hex = String(scalar.value, radix: 16, uppercase: true)
                escaped += "\\x" + (hex.count < 2 ? "0" + hex : hex)
            } else {
                escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }
}
