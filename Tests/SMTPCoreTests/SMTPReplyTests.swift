import NIOCore
import SMTPCore
import Testing

@Suite struct SMTPReplyTests {
    @Test func singleLineWithEnhancedCode() {
        let reply = SMTPReply.queued(messageId: "abc123")
        #expect(reply.description == "250 2.0.0 Ok: queued as abc123\r\n")
    }

    @Test func multiLineUsesDashOnAllButTheLastLine() {
        let reply = SMTPReply.ehlo(hostname: "mx.test", clientName: "client", extensions: ["PIPELINING", "8BITMIME"])
        #expect(reply.description == "250-mx.test greets client\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
    }

    @Test func writesWireFormIntoABuffer() {
        var buffer = ByteBuffer()
        SMTPReply.bye.write(into: &buffer)
        #expect(String(buffer: buffer) == "221 2.0.0 Bye\r\n")
    }

    @Test func greetingHasNoEnhancedCode() {
        #expect(SMTPReply.greeting(hostname: "mx.test").description == "220 mx.test ESMTP\r\n")
    }

    @Test(arguments: [
        (SMTPParserError.Kind.unknownCommand, "500 5.5.1 "),
        (.lineTooLong, "500 5.5.2 "),
        (.syntax, "501 5.5.4 "),
        (.unsupportedParameter, "555 5.5.4 "),
    ])
    func parserErrorsMapToTheirReplies(kind: SMTPParserError.Kind, prefix: String) {
        let reply = SMTPReply.commandRejected(SMTPParserError(kind, "reason"))
        #expect(reply.description.hasPrefix(prefix))
    }

    @Test func everyReplyButGreetingHelloAnd354CarriesAnEnhancedCode() {
        let mailbox = Mailbox(localPart: "a", domain: "b.example")
        let replies: [SMTPReply] = [
            .bye, .timeout(hostname: "h"), .tooManyConnections(hostname: "h"),
            .tooManyConnectionsFromAddress(hostname: "h"), .tooManyErrors(hostname: "h"), .shuttingDown(hostname: "h"),
            .ok, .senderOk, .recipientOk, .cannotVerify, .readyToStartTLS, .help(tlsAvailable: true),
            .queued(messageId: "x"), .unknownUser(mailbox), .relayDenied(mailbox), .tooManyRecipients,
            .messageTooLarge, .storageFailed, .tlsRequired, .tlsNotAvailable, .utf8AddressNeedsSMTPUTF8,
            .badSequence("x"),
        ]
        for reply in replies {
            #expect(reply.enhancedCode?.statusClass == reply.code / 100, "\(reply)")
        }
    }
}
