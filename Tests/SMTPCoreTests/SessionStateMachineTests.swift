import SMTPCore
import Testing

/// Drives a session with command lines, as the listener does, and returns the replies.
struct SessionDriver {
    var machine: SessionStateMachine

    init(
        tlsAvailable: Bool = true, requireTLS: Bool = false, maximumRecipients: Int = 3,
        maximumMessageSize: Int = 1000, maximumErrors: Int = 10
    ) {
        self.machine = SessionStateMachine(
            configuration: SessionConfiguration(
                hostname: "mx.test", recipientPolicy: RecipientPolicy(addresses: ["create@localhost"]),
                maximumMessageSize: maximumMessageSize, maximumRecipients: maximumRecipients,
                maximumErrors: maximumErrors, tlsAvailable: tlsAvailable, requireTLS: requireTLS))
    }

    /// Parses and feeds one line, like the listener.
    mutating func send(_ line: String) -> [SessionStateMachine.Action] {
        do {
            return self.machine.commandReceived(try CommandParser.parse(Array(line.utf8)))
        } catch {
            return self.machine.commandRejected(error)
        }
    }

    /// The reply lines the command produced, one string per reply.
    mutating func reply(_ line: String) -> [String] {
        Self.replies(self.send(line))
    }

    /// The code and enhanced code of the single reply, like "250 2.1.5".
    mutating func code(_ line: String) -> String {
        Self.codes(self.send(line)).joined(separator: ",")
    }

    static func replies(_ actions: [SessionStateMachine.Action]) -> [String] {
        actions.compactMap {
            if case .sendReply(let reply) = $0 { return reply.description }
            return nil
        }
    }

    static func codes(_ actions: [SessionStateMachine.Action]) -> [String] {
        actions.compactMap {
            guard case .sendReply(let reply) = $0 else { return nil }
            return [String(reply.code), reply.enhancedCode?.description].compactMap { $0 }.joined(separator: " ")
        }
    }

    mutating func openTransaction() {
        #expect(self.code("EHLO client.example") == "250")
        #expect(self.code("MAIL FROM:<organizer@example.com>") == "250 2.1.0")
        #expect(self.code("RCPT TO:<create@localhost>") == "250 2.1.5")
    }
}

@Suite struct SessionStateMachineTests {
    @Test func greeting() {
        var driver = SessionDriver()
        #expect(driver.machine.connectionEstablished() == [.sendReply(SMTPReply(220, nil, "mx.test ESMTP"))])
    }

    @Test func ehloAdvertisesExtensions() {
        var driver = SessionDriver(maximumMessageSize: 41_943_040)
        #expect(
            driver.reply("EHLO client.example") == [
                "250-mx.test greets client.example\r\n250-PIPELINING\r\n250-SIZE 41943040\r\n250-8BITMIME\r\n"
                    + "250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n250 STARTTLS\r\n"
            ])
    }

    @Test func ehloWithoutCertificateDoesNotOfferSTARTTLS() {
        var driver = SessionDriver(tlsAvailable: false)
        #expect(driver.reply("EHLO c").first?.contains("STARTTLS") == false)
        #expect(driver.code("STARTTLS") == "502 5.5.1")
    }

    @Test func heloGetsAPlainReply() {
        var driver = SessionDriver()
        #expect(driver.reply("HELO client.example") == ["250 mx.test\r\n"])
        #expect(driver.code("MAIL FROM:<a@b.example> SIZE=10") == "555 5.5.4")
        #expect(driver.code("MAIL FROM:<a@b.example>") == "250 2.1.0")
    }

    @Test func completeTransaction() {
        var driver = SessionDriver()
        driver.openTransaction()
        #expect(driver.code("RCPT TO:<Create+Team@LOCALHOST>") == "250 2.1.5")
        #expect(driver.send("DATA") == [.sendReply(.startMailInput), .receiveData(maximumSize: 1000)])
        #expect(driver.machine.phase == .receivingData)
        let actions = driver.machine.dataCompleted(size: 42)
        let expected = SMTPTransaction(
            heloName: "client.example", esmtp: true,
            reversePath: .mailbox(Mailbox(localPart: "organizer", domain: "example.com")),
            parameters: MailParameters(),
            recipients: [Mailbox(localPart: "create", domain: "localhost"), Mailbox(localPart: "Create+Team", domain: "LOCALHOST")],
            tls: false, size: 42)
        #expect(actions == [.deliver(expected)])
        #expect(!driver.machine.isAcceptingCommands)
        let finished = driver.machine.deliveryFinished(.delivered(messageId: "m1"))
        #expect(SessionDriver.replies(finished) == ["250 2.0.0 Ok: queued as m1\r\n"])
        #expect(
            finished.contains(
                .logTransaction(
                    SMTPTransactionRecord(
                        outcome: .delivered, messageId: "m1", size: 42, recipientCount: 2, tls: false,
                        reply: .queued(messageId: "m1")))))
        // The next transaction needs a new MAIL.
        #expect(driver.code("RCPT TO:<create@localhost>") == "503 5.5.1")
        #expect(driver.code("MAIL FROM:<>") == "250 2.1.0")
    }

    @Test func deliveryFailureIs451() {
        var driver = SessionDriver()
        driver.openTransaction()
        _ = driver.send("DATA")
        _ = driver.machine.dataCompleted(size: 1)
        let actions = driver.machine.deliveryFinished(.failed)
        #expect(SessionDriver.codes(actions) == ["451 4.3.0"])
        #expect(actions.contains { if case .logTransaction(let r) = $0 { r.outcome == .deliveryFailed } else { false } })
        #expect(driver.machine.phase == .ready)
    }

    @Test func recipientsOutsideTheConfiguredAddresses() {
        var driver = SessionDriver()
        _ = driver.send("EHLO c")
        _ = driver.send("MAIL FROM:<a@b.example>")
        #expect(driver.reply("RCPT TO:<nobody@localhost>") == ["550 5.1.1 <nobody@localhost>: Recipient address rejected: User unknown\r\n"])
        #expect(driver.reply("RCPT TO:<create@elsewhere.example>") == ["550 5.7.1 <create@elsewhere.example>: Relay access denied\r\n"])
        #expect(driver.code("DATA") == "503 5.5.1")
    }

    @Test func tooManyRecipients() {
        var driver = SessionDriver(maximumRecipients: 2)
        driver.openTransaction()
        #expect(driver.code("RCPT TO:<create+2@localhost>") == "250 2.1.5")
        #expect(driver.code("RCPT TO:<create+3@localhost>") == "452 4.5.3")
        // A repeated recipient is not a new one.
        #expect(driver.code("RCPT TO:<create@localhost>") == "250 2.1.5")
        #expect(driver.machine.errorCount == 0)
    }

    @Test func sizeDeclaredAtMail() {
        var driver = SessionDriver(maximumMessageSize: 1000)
        _ = driver.send("EHLO c")
        #expect(driver.code("MAIL FROM:<a@b.example> SIZE=1001") == "552 5.3.4")
        #expect(driver.code("MAIL FROM:<a@b.example> SIZE=1000") == "250 2.1.0")
    }

    @Test func sizeExceededInData() {
        var driver = SessionDriver(maximumMessageSize: 1000)
        driver.openTransaction()
        _ = driver.send("DATA")
        let actions = driver.machine.dataCompleted(size: 1001)
        #expect(SessionDriver.codes(actions) == ["552 5.3.4"])
        #expect(actions.contains { if case .logTransaction(let r) = $0 { r.outcome == .rejectedTooLarge } else { false } })
        #expect(!actions.contains { if case .deliver = $0 { true } else { false } })
        #expect(driver.machine.phase == .ready)
    }

    @Test(arguments: [
        ("MAIL FROM:<a@b.example>", "503 5.5.1"),
        ("RCPT TO:<create@localhost>", "503 5.5.1"),
        ("DATA", "503 5.5.1"),
        ("STARTTLS", "503 5.5.1"),
        ("FOO", "500 5.5.1"),
        ("MAIL FROM:a@b.example", "501 5.5.4"),
        ("RSET", "250 2.0.0"),
        ("NOOP", "250 2.0.0"),
        ("VRFY create", "252 2.0.0"),
        ("HELP", "214 2.0.0"),
        ("QUIT", "221 2.0.0"),
    ])
    func repliesBeforeHello(line: String, code: String) {
        var driver = SessionDriver()
        #expect(driver.code(line) == code)
    }

    @Test func nestedMailIsABadSequence() {
        var driver = SessionDriver()
        driver.openTransaction()
        #expect(driver.code("MAIL FROM:<a@b.example>") == "503 5.5.1")
        #expect(driver.code("RSET") == "250 2.0.0")
        #expect(driver.code("MAIL FROM:<a@b.example>") == "250 2.1.0")
    }

    @Test func dataNeedsARecipient() {
        var driver = SessionDriver()
        _ = driver.send("EHLO c")
        _ = driver.send("MAIL FROM:<a@b.example>")
        #expect(driver.code("DATA") == "503 5.5.1")
    }

    @Test func ehloEndsAnOpenTransaction() {
        var driver = SessionDriver()
        driver.openTransaction()
        _ = driver.send("EHLO again")
        #expect(driver.code("DATA") == "503 5.5.1")
    }

    @Test func lineTooLong() {
        var driver = SessionDriver()
        #expect(SessionDriver.codes(driver.machine.commandRejected(.lineTooLong)) == ["500 5.5.2"])
    }

    @Test func nonASCIIAddressesNeedSMTPUTF8() {
        var driver = SessionDriver()
        _ = driver.send("EHLO c")
        #expect(driver.code("MAIL FROM:<jöran@example.de>") == "553 5.6.7")
        #expect(driver.code("MAIL FROM:<jöran@example.de> SMTPUTF8 BODY=8BITMIME") == "250 2.1.0")
        _ = driver.send("RSET")
        _ = driver.send("MAIL FROM:<a@example.de>")
        #expect(driver.code("RCPT TO:<crëate@localhost>") == "553 5.6.7")
    }

    @Test func quitCloses() {
        var driver = SessionDriver()
        #expect(driver.send("QUIT") == [.sendReply(.bye), .closeConnection])
        #expect(driver.machine.phase == .closed)
        #expect(driver.send("NOOP") == [])
    }

    @Test func tooManyErrorsCloseWith421() {
        var driver = SessionDriver(maximumErrors: 3)
        #expect(driver.code("FOO") == "500 5.5.1")
        #expect(driver.code("BAR") == "500 5.5.1")
        let actions = driver.send("BAZ")
        #expect(SessionDriver.codes(actions) == ["500 5.5.1", "421 4.7.0"])
        #expect(actions.last == .closeConnection)
        #expect(driver.machine.phase == .closed)
    }

    @Test func startTLSResetsTheSession() {
        var driver = SessionDriver()
        _ = driver.send("EHLO c")
        #expect(driver.send("STARTTLS") == [.sendReply(.readyToStartTLS), .startTLS])
        #expect(!driver.machine.isAcceptingCommands)
        // Anything pipelined after STARTTLS is dropped by the listener; were it fed, it would do nothing.
        #expect(driver.send("MAIL FROM:<a@b.example>") == [])
        #expect(driver.machine.tlsHandshakeCompleted() == [])
        #expect(driver.machine.isTLS)
        // The client must greet again, and STARTTLS is no longer offered.
        #expect(driver.code("MAIL FROM:<a@b.example>") == "503 5.5.1")
        #expect(driver.reply("EHLO c").first?.contains("STARTTLS") == false)
        #expect(driver.code("STARTTLS") == "503 5.5.1")
        driver.openTransaction()
        _ = driver.send("DATA")
        guard case .deliver(let transaction) = driver.machine.dataCompleted(size: 1).first else {
            Issue.record("no delivery")
            return
        }
        #expect(transaction.tls)
    }

    @Test func startTLSInsideATransactionIsABadSequence() {
        var driver = SessionDriver()
        driver.openTransaction()
        #expect(driver.code("STARTTLS") == "503 5.5.1")
    }

    @Test func requireTLS() {
        var driver = SessionDriver(requireTLS: true)
        _ = driver.send("EHLO c")
        #expect(driver.code("MAIL FROM:<a@b.example>") == "530 5.7.0")
        _ = driver.send("STARTTLS")
        _ = driver.machine.tlsHandshakeCompleted()
        _ = driver.send("EHLO c")
        #expect(driver.code("MAIL FROM:<a@b.example>") == "250 2.1.0")
    }

    @Test func timeout() {
        var driver = SessionDriver()
        _ = driver.send("EHLO c")
        let actions = driver.machine.timeoutFired()
        #expect(SessionDriver.codes(actions) == ["421 4.4.2"])
        #expect(actions.last == .closeConnection)
    }

    @Test func timeoutDuringDeliveryIsIgnored() {
        var driver = SessionDriver()
        driver.openTransaction()
        _ = driver.send("DATA")
        _ = driver.machine.dataCompleted(size: 1)
        #expect(driver.machine.timeoutFired() == [])
    }

    @Test func connectionRefused() {
        var driver = SessionDriver()
        let actions = driver.machine.connectionRefused(reply: .tooManyConnectionsFromAddress(hostname: "mx.test"))
        #expect(SessionDriver.codes(actions) == ["421 4.7.0"])
        #expect(actions.last == .closeConnection)
    }

    @Test func shutdownTellsAnIdleSession421() {
        var driver = SessionDriver()
        _ = driver.send("EHLO c")
        let actions = driver.machine.shutdownRequested()
        #expect(SessionDriver.codes(actions) == ["421 4.3.2"])
        #expect(actions.last == .closeConnection)
    }

    @Test func shutdownLetsAMessageInFlightFinish() {
        var driver = SessionDriver()
        driver.openTransaction()
        _ = driver.send("DATA")
        #expect(driver.machine.shutdownRequested() == [])
        #expect(driver.machine.dataCompleted(size: 5).count == 1)
        let actions = driver.machine.deliveryFinished(.delivered(messageId: "m"))
        #expect(SessionDriver.codes(actions) == ["250 2.0.0", "421 4.3.2"])
        #expect(actions.last == .closeConnection)
    }
}

@Suite struct SessionLimitsTests {
    static func driver(junkCommandLimit: Int = 3, maximumErrors: Int = 2) -> SessionDriver {
        var driver = SessionDriver(maximumErrors: maximumErrors)
        driver.machine = SessionStateMachine(
            configuration: SessionConfiguration(
                hostname: "mx.test", recipientPolicy: RecipientPolicy(addresses: ["create@localhost"]),
                maximumErrors: maximumErrors, junkCommandLimit: junkCommandLimit, tlsAvailable: true))
        return driver
    }

    @Test func junkCommandsPastTheLimitCountAsErrors() {
        var driver = Self.driver()
        #expect(driver.code("EHLO client.example") == "250")
        for line in ["NOOP", "RSET", "HELP"] {
            #expect(driver.code(line).hasPrefix("2"), "\(line) within the limit")
        }
        #expect(driver.machine.errorCount == 0)
        // The fourth is still answered, but counts as the first error.
        #expect(driver.code("VRFY someone") == "252 2.0.0")
        #expect(driver.machine.errorCount == 1)
        let actions = driver.send("NOOP")
        #expect(SessionDriver.codes(actions) == ["250 2.0.0", "421 4.7.0"])
        #expect(actions.last == .closeConnection)
        #expect(driver.machine.phase == .closed)
    }

    @Test func otherCommandsAreNotJunk() {
        var driver = Self.driver(junkCommandLimit: 1)
        for _ in 0..<5 {
            #expect(driver.code("EHLO client.example") == "250")
            #expect(driver.code("MAIL FROM:<a@example.com>") == "250 2.1.0")
            #expect(driver.code("RCPT TO:<create@localhost>") == "250 2.1.5")
        }
        #expect(driver.machine.junkCommandCount == 0)
        #expect(driver.machine.errorCount == 0)
    }

    @Test func aHandshakeTimeoutClosesWithoutAReply() {
        var driver = SessionDriver()
        #expect(driver.code("EHLO client.example") == "250")
        #expect(driver.send("STARTTLS") == [.sendReply(.readyToStartTLS), .startTLS])
        #expect(driver.machine.timeoutFired() == [.closeConnection])
        #expect(driver.machine.phase == .closed)
    }

    @Test func theSessionTimeLimitEndsAnIdleSession() {
        var driver = SessionDriver()
        #expect(driver.code("EHLO client.example") == "250")
        let actions = driver.machine.sessionTimeLimitReached()
        #expect(SessionDriver.codes(actions) == ["421 4.4.2"])
        #expect(actions.last == .closeConnection)
        #expect(driver.machine.sessionTimeLimitReached() == [])
    }

    @Test func theSessionTimeLimitAnswersAMessageInFlightFirst() {
        var driver = SessionDriver()
        driver.openTransaction()
        _ = driver.send("DATA")
        _ = driver.machine.dataCompleted(size: 10)
        #expect(driver.machine.sessionTimeLimitReached() == [])
        let actions = driver.machine.deliveryFinished(.delivered(messageId: "m1"))
        #expect(SessionDriver.codes(actions) == ["250 2.0.0", "421 4.4.2"])
        #expect(actions.last == .closeConnection)
    }

    @Test func theSessionTimeLimitDropsAMessageStillArriving() {
        var driver = SessionDriver()
        driver.openTransaction()
        _ = driver.send("DATA")
        #expect(SessionDriver.codes(driver.machine.sessionTimeLimitReached()) == ["421 4.4.2"])
        #expect(driver.machine.dataCompleted(size: 10) == [])
    }

    @Test func anEightBitEHLONameNeedsSMTPUTF8() {
        var driver = SessionDriver()
        #expect(driver.code("EHLO clïent.example") == "250")
        #expect(driver.code("MAIL FROM:<a@example.com>") == "553 5.6.7")
        #expect(driver.code("MAIL FROM:<a@example.com> SMTPUTF8") == "250 2.1.0")
    }
}
