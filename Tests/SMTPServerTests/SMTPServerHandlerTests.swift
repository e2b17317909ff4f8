import InMemoryLogging
import Logging
import NIOCore
import NIOEmbedded
import NIOSSL
@testable import SMTPServer
import SMTPCore
import Testing

/// An `SMTPServerHandler` on an `EmbeddedChannel`, driven with raw bytes.
final class HandlerHarness {
    let channel: EmbeddedChannel
    let logs = InMemoryLogHandler()

    init(
        maximumMessageSize: Int = 1000, admission: ConnectionLimiter.Admission = .admitted,
        tlsContext: NIOSSLContext? = nil, maximumErrors: Int = 10,
        deadlines: SMTPServerHandler.Deadlines = .init(command: .seconds(300), data: .seconds(600), minimumDataRate: 0),
        directSink: (any DirectMessageSink)? = nil, memoryLimit: Int = 1 << 20
    ) throws {
        let configuration = SessionConfiguration(
            hostname: "mx.test", recipientPolicy: RecipientPolicy(addresses: ["create@localhost"]),
            maximumMessageSize: maximumMessageSize, maximumRecipients: 3, maximumErrors: maximumErrors,
            tlsAvailable: tlsContext != nil)
        let logs = self.logs
        let handler = SMTPServerHandler(
            configuration: configuration, admission: admission, clientAddress: "192.0.2.7", clientPort: 40000,
            deadlines: deadlines, tlsContext: tlsContext,
            directDelivery: directSink.flatMap { SMTPServerHandler.DirectDelivery($0, memoryLimit: memoryLimit) },
            logger: Logger(label: "test") { _ in logs })
        self.channel = EmbeddedChannel(handler: handler)
        try self.channel.connect(to: SocketAddress(ipAddress: "192.0.2.7", port: 40000)).wait()
    }

    func send(_ text: String) throws {
        try self.channel.writeInbound(ByteBuffer(string: text))
    }

    /// Everything the handler has written so far.
    func output() throws -> String {
        var text = ""
        while let buffer = try self.channel.readOutbound(as: ByteBuffer.self) {
            text += String(buffer: buffer)
        }
        return text
    }

    /// Reply codes written so far, like ["250", "250 2.1.0"].
    func codes() throws -> [String] {
        try self.output().split(separator: "\r\n").filter { $0.dropFirst(3).first == " " }.map { line in
            let words = line.split(separator: " ")
            let enhanced = words.count > 1 && words[1].allSatisfy { $0.isNumber || $0 == "." } && words[1].contains(".")
            return enhanced ? "\(words[0]) \(words[1])" : String(words[0])
        }
    }

    func events() throws -> [SMTPConnectionEvent] {
        var events: [SMTPConnectionEvent] = []
        while let event = try self.channel.readInbound(as: SMTPConnectionEvent.self) {
            events.append(event)
        }
        return events
    }

    /// The message text and envelope of the events, if a message was completed.
    func completedMessage() throws -> (text: String, envelope: SMTPEnvelope)? {
        var text = ""
        for event in try self.events() {
            switch event {
            case .messageText(let buffer): text += String(buffer: buffer)
            case .messageCompleted(let envelope, _): return (text, envelope)
            case .messageDiscarded: text = ""
            }
        }
        return nil
    }

    func startTransaction() throws {
        try self.send("EHLO client.example\r\nMAIL FROM:<organizer@example.com>\r\nRCPT TO:<create@localhost>\r\nDATA\r\n")
        #expect(try self.codes() == ["220", "250", "250 2.1.0", "250 2.1.5", "354"])
    }
}

@Suite struct SMTPServerHandlerTests {
    @Test func greetsOnConnect() throws {
        let harness = try HandlerHarness()
        #expect(try harness.output() == "220 mx.test ESMTP\r\n")
    }

    @Test func pipelinedCommandsAreAnsweredInOrder() throws {
        let harness = try HandlerHarness()
        try harness.send(
            "EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<create@localhost>\r\nRCPT TO:<x@elsewhere.example>\r\n"
                + "RCPT TO:<nobody@localhost>\r\nNOOP\r\n")
        #expect(try harness.codes() == ["220", "250", "250 2.1.0", "250 2.1.5", "550 5.7.1", "550 5.1.1", "250 2.0.0"])
    }

    @Test func deliversAMessageAndRepliesWithTheQueueId() throws {
        let harness = try HandlerHarness()
        try harness.startTransaction()
        try harness.send("Subject: hi\r\n\r\n..dot\r\n.\r\n")
        let message = try #require(try harness.completedMessage())
        #expect(message.text == "Subject: hi\r\n\r\n.dot\r\n")
        #expect(
            message.envelope
                == SMTPEnvelope(
                    heloName: "client.example", esmtp: true, mailFrom: "organizer@example.com",
                    recipients: ["create@localhost"], clientAddress: "192.0.2.7", clientPort: 40000, tls: false))
        #expect(try harness.output() == "")
        try harness.channel.writeOutbound(
            SMTPDeliveryOutcome.delivered(DeliveryReceipt(messageId: "abc", objectKey: "inbound/abc")))
        #expect(try harness.output() == "250 2.0.0 Ok: queued as abc\r\n")
    }

    @Test func logsOneLinePerTransactionWithoutContent() throws {
        let harness = try HandlerHarness()
        try harness.startTransaction()
        try harness.send("Secret-Header: do-not-log\r\n.\r\n")
        _ = try harness.events()
        try harness.channel.writeOutbound(
            SMTPDeliveryOutcome.delivered(DeliveryReceipt(messageId: "abc", objectKey: "inbound/abc")))
        let lines = harness.logs.entries.filter { $0.message == "transaction" }
        #expect(lines.count == 1)
        let metadata = try #require(lines.first?.metadata)
        #expect(metadata["smtp.message.id"] == "abc")
        #expect(metadata["smtp.client.address"] == "192.0.2.7")
        #expect(metadata["smtp.tls"] == "false")
        #expect(metadata["smtp.message.size"] == "27")
        #expect(metadata["smtp.outcome"] == "delivered")
        #expect(metadata["smtp.reply.code"] == "250 2.0.0")
        #expect(!harness.logs.entries.contains { "\($0.message) \($0.metadata)".contains("do-not-log") })
    }

    @Test func deliveryFailureIs451() throws {
        let harness = try HandlerHarness()
        try harness.startTransaction()
        try harness.send("x\r\n.\r\n")
        _ = try harness.events()
        try harness.channel.writeOutbound(SMTPDeliveryOutcome.failed(reason: "disk full"))
        #expect(try harness.codes() == ["451 4.3.0"])
    }

    @Test func commandsAfterTheFinalDotWaitForTheDelivery() throws {
        let harness = try HandlerHarness()
        try harness.startTransaction()
        try harness.send("x\r\n.\r\nQUIT\r\n")
        #expect(try harness.output() == "")
        #expect(harness.channel.isActive)
        try harness.channel.writeOutbound(
            SMTPDeliveryOutcome.delivered(DeliveryReceipt(messageId: "m", objectKey: "inbound/m")))
        #expect(try harness.codes() == ["250 2.0.0", "221 2.0.0"])
        #expect(!harness.channel.isActive)
    }

    @Test func oversizedDataIsDrainedThenRefused() throws {
        let harness = try HandlerHarness(maximumMessageSize: 100)
        try harness.startTransaction()
        try harness.send(String(repeating: "0123456789", count: 20) + "\r\n")
        #expect(try harness.output() == "")
        try harness.send("more\r\n.\r\nNOOP\r\n")
        #expect(try harness.codes() == ["552 5.3.4", "250 2.0.0"])
        let events = try harness.events()
        #expect(events.contains { if case .messageDiscarded = $0 { true } else { false } })
        #expect(!events.contains { if case .messageCompleted = $0 { true } else { false } })
    }

    @Test(arguments: ["\n.\n", "\r.\r", "\n.\r\n", "\r\n.\n"])
    func smugglingSequencesDoNotEndTheMessage(sequence: String) throws {
        let harness = try HandlerHarness()
        try harness.startTransaction()
        try harness.send("first\(sequence)MAIL FROM:<evil@attacker.example>\r\nRCPT TO:<create@localhost>\r\nDATA\r\nsmuggled\r\n")
        #expect(try harness.output() == "")
        try harness.send(".\r\n")
        let message = try #require(try harness.completedMessage())
        #expect(message.text.contains("MAIL FROM:<evil@attacker.example>"))
        #expect(message.text.hasSuffix("smuggled\r\n"))
        #expect(message.envelope.mailFrom == "organizer@example.com")
        #expect(try harness.events().isEmpty)
    }

    @Test func commandsPipelinedAfterSTARTTLSAreDiscarded() throws {
        let certificate = try TestCertificate.shared.get()
        let context = try SMTPTLS.makeServerContext(
            certificatePath: certificate.certificatePath, privateKeyPath: certificate.privateKeyPath)
        let harness = try HandlerHarness(tlsContext: context)
        try harness.send("EHLO c\r\nSTARTTLS\r\nMAIL FROM:<injected@attacker.example>\r\nRSET\r\n")
        let output = try harness.output()
        #expect(output.hasSuffix("250 STARTTLS\r\n220 2.0.0 Ready to start TLS\r\n"))
        _ = try harness.channel.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)
        #expect(harness.logs.entries.contains { $0.message == "discarded bytes pipelined after STARTTLS" })
    }

    @Test func overlongLineIs500AndTheSessionGoesOn() throws {
        let harness = try HandlerHarness()
        try harness.send("NOOP " + String(repeating: "x", count: 600) + "\r\nNOOP\r\n")
        #expect(try harness.codes() == ["220", "500 5.5.2", "250 2.0.0"])
    }

    @Test func idleTimeoutCloses() throws {
        let harness = try HandlerHarness()
        try harness.send("EHLO c\r\n")
        harness.channel.embeddedEventLoop.advanceTime(by: .seconds(299))
        #expect(harness.channel.isActive)
        harness.channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(try harness.codes() == ["220", "250", "421 4.4.2"])
        #expect(!harness.channel.isActive)
    }

    @Test func messageTextBelowTheMinimumRateIsCutOffAfterTheGrace() throws {
        let harness = try HandlerHarness(
            deadlines: .init(command: .seconds(300), data: .seconds(600), minimumDataRate: 100, minimumDataRateGrace: .seconds(10)))
        try harness.startTransaction()
        // 10 bytes a second keeps the idle timer from firing; 1000 bytes earn 10 s at 100 bytes/s.
        for _ in 0..<15 {
            try harness.send("0123456789")
            harness.channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        }
        #expect(try harness.codes() == ["421 4.4.2"])
        #expect(!harness.channel.isActive)
        #expect(try harness.events().contains { if case .messageDiscarded = $0 { true } else { false } })
        #expect(harness.logs.entries.contains { $0.message == "message text below the minimum data rate" })
    }

    @Test func messageTextAtTheMinimumRateIsKept() throws {
        let harness = try HandlerHarness(
            maximumMessageSize: 10_000,
            deadlines: .init(command: .seconds(300), data: .seconds(600), minimumDataRate: 100, minimumDataRateGrace: .seconds(10)))
        try harness.startTransaction()
        for _ in 0..<30 {
            try harness.send(String(repeating: "x", count: 120))
            harness.channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        }
        try harness.send("\r\n.\r\n")
        #expect(try harness.codes() == [])
        #expect(try harness.completedMessage() != nil)
    }

    @Test func theTLSHandshakeHasItsOwnDeadlineAndNoReply() throws {
        let certificate = try TestCertificate.shared.get()
        let harness = try HandlerHarness(
            tlsContext: try SMTPTLS.makeServerContext(
                certificatePath: certificate.certificatePath, privateKeyPath: certificate.privateKeyPath),
            deadlines: .init(command: .seconds(300), data: .seconds(600), tlsHandshake: .seconds(5)))
        try harness.send("EHLO c\r\nSTARTTLS\r\n")
        _ = try harness.output()
        harness.channel.embeddedEventLoop.advanceTime(by: .seconds(6))
        #expect(!harness.channel.isActive)
    }

    @Test func theSessionTimeLimitEndsABusySession() throws {
        let harness = try HandlerHarness(
            deadlines: .init(command: .seconds(300), data: .seconds(600), session: .seconds(10)))
        for _ in 0..<9 {
            try harness.send("NOOP\r\n")
            harness.channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        }
        #expect(harness.channel.isActive)
        harness.channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(try harness.codes().suffix(2) == ["250 2.0.0", "421 4.4.2"])
        #expect(!harness.channel.isActive)
    }

    @Test func readsStopWhileTheSocketIsNotWritable() throws {
        let harness = try HandlerHarness()
        let reads = ReadCounter()
        try harness.channel.pipeline.syncOperations.addHandler(reads, position: .first)
        harness.channel.read()
        #expect(reads.count == 1)
        harness.channel.isWritable = false
        harness.channel.read()
        #expect(reads.count == 1)
        harness.channel.isWritable = true
        harness.channel.pipeline.fireChannelWritabilityChanged()
        #expect(reads.count == 2)
    }

    @Test func aTimeoutClosesEvenWhenIts421CannotBeWritten() throws {
        let harness = try HandlerHarness(deadlines: .init(command: .seconds(5), data: .seconds(600)))
        try harness.send("EHLO c\r\n")
        _ = try harness.output()
        let socket = StalledSocket()
        try harness.channel.pipeline.syncOperations.addHandler(socket, position: .first)
        harness.channel.embeddedEventLoop.advanceTime(by: .seconds(5))
        #expect(socket.held.map { String(buffer: $0) } == ["421 4.4.2 mx.test Error: timeout exceeded\r\n"])
        #expect(harness.channel.isActive, "the 421 gets its grace")
        harness.channel.embeddedEventLoop.advanceTime(by: SMTPServerConfiguration.defaultCloseTimeout)
        #expect(!harness.channel.isActive)
    }

    @Test func aClientThatLeavesTooManyRepliesUnreadIsDisconnected() throws {
        let harness = try HandlerHarness(
            deadlines: .init(command: .seconds(300), data: .seconds(600), maximumPendingReplyBytes: 4096))
        _ = try harness.output()
        let socket = StalledSocket()
        try harness.channel.pipeline.syncOperations.addHandler(socket, position: .first)
        try harness.send(String(repeating: "EHLO client.example\r\n", count: 100))
        #expect(!harness.channel.isActive)
        let pending = socket.held.reduce(0) { $0 + $1.readableBytes }
        #expect(pending > 2048 && pending <= 4096)
        #expect(harness.logs.entries.contains { $0.message == "closing: the client does not read its replies" })
    }

    @Test func aClientThatReadsMayPipelineWithoutLimit() throws {
        let harness = try HandlerHarness(
            deadlines: .init(command: .seconds(300), data: .seconds(600), maximumPendingReplyBytes: 4096))
        try harness.send(String(repeating: "EHLO client.example\r\n", count: 100))
        #expect(harness.channel.isActive)
        #expect(try harness.codes().count == 101)
    }

    @Test func theAsyncSideNeverHearsOfWritability() throws {
        let harness = try HandlerHarness()
        let events = WritabilityEvents()
        try harness.channel.pipeline.syncOperations.addHandler(events)
        harness.channel.isWritable = false
        harness.channel.pipeline.fireChannelWritabilityChanged()
        #expect(events.count == 0)
    }

    @Test func dataTimeoutDiscardsTheMessage() throws {
        let harness = try HandlerHarness()
        try harness.startTransaction()
        try harness.send("partial text\r\n")
        harness.channel.embeddedEventLoop.advanceTime(by: .seconds(400))
        #expect(harness.channel.isActive)
        harness.channel.embeddedEventLoop.advanceTime(by: .seconds(201))
        #expect(try harness.codes() == ["421 4.4.2"])
        #expect(try harness.events().contains { if case .messageDiscarded = $0 { true } else { false } })
    }

    @Test func refusedConnectionGets421() throws {
        let harness = try HandlerHarness(admission: .tooManyFromNetwork)
        #expect(try harness.output() == "421 4.7.0 mx.test Error: too many connections from your network\r\n")
        #expect(!harness.channel.isActive)
    }

    @Test func tooManyErrorsClose() throws {
        let harness = try HandlerHarness(maximumErrors: 2)
        try harness.send("FOO\r\nBAR\r\nNOOP\r\n")
        #expect(try harness.codes() == ["220", "500 5.5.1", "500 5.5.1", "421 4.7.0"])
        #expect(!harness.channel.isActive)
    }

    @Test func shutdownTellsAnIdleSession421() throws {
        let harness = try HandlerHarness()
        try harness.send("EHLO c\r\n")
        harness.channel.pipeline.fireUserInboundEventTriggered(SMTPServerHandler.ShutdownRequested())
        #expect(try harness.codes() == ["220", "250", "421 4.3.2"])
        #expect(!harness.channel.isActive)
    }

    @Test func shutdownLetsDataInFlightFinish() throws {
        let harness = try HandlerHarness()
        try harness.startTransaction()
        try harness.send("text\r\n")
        harness.channel.pipeline.fireUserInboundEventTriggered(SMTPServerHandler.ShutdownRequested())
        #expect(try harness.output() == "")
        try harness.send(".\r\n")
        _ = try harness.events()
        try harness.channel.writeOutbound(
            SMTPDeliveryOutcome.delivered(DeliveryReceipt(messageId: "m", objectKey: "inbound/m")))
        #expect(try harness.codes() == ["250 2.0.0", "421 4.3.2"])
        #expect(!harness.channel.isActive)
    }

    /// A whole pipelined session cut at every point gives the same replies and message.
    @Test func everySplitPointOfASessionGivesTheSameResult() throws {
        let session = Array(
            ("EHLO c\r\nMAIL FROM:<a@b.example> SIZE=20\r\nRCPT TO:<create@localhost>\r\nDATA\r\n"
                + "..x\r\ny\n.\nz\r\n.\r\n").utf8)
        func run(_ parts: [ArraySlice<UInt8>]) throws -> (String, String?) {
            let harness = try HandlerHarness()
            for part in parts where !part.isEmpty {
                try harness.channel.writeInbound(ByteBuffer(bytes: part))
            }
            return (try harness.output(), try harness.completedMessage()?.text)
        }
        let whole = try run([session[...]])
        #expect(whole.1 == ".x\r\ny\n.\nz\r\n")
        #expect(whole.0.hasSuffix("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"))
        for split in 1..<session.count {
            let result = try run([session[..<split], session[split...]])
            #expect(result == whole, "split at \(split)")
        }
    }

    @Test func connectionLostDuringDataDiscardsTheMessage() throws {
        let harness = try HandlerHarness()
        try harness.startTransaction()
        try harness.send("text\r\n")
        try harness.channel.close().wait()
        let events = try harness.events()
        #expect(events.contains { if case .messageDiscarded = $0 { true } else { false } })
        #expect(!events.contains { if case .messageCompleted = $0 { true } else { false } })
    }
}

/// Counts the reads that reach the front of the pipeline.
final class ReadCounter: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    var count = 0

    func read(context: ChannelHandlerContext) {
        self.count += 1
        context.read()
    }
}

/// Counts the writability changes that get past the handler.
final class WritabilityEvents: ChannelInboundHandler {
    typealias InboundIn = SMTPConnectionEvent
    var count = 0

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        self.count += 1
    }
}

/// A socket whose peer reads nothing: writes are held, never completed, until the close.
final class StalledSocket: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    private(set) var held: [ByteBuffer] = []
    private var promises: [EventLoopPromise<Void>] = []

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        self.held.append(self.unwrapOutboundIn(data))
        if let promise { self.promises.append(promise) }
    }

    func flush(context: ChannelHandlerContext) {}

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        let promises = self.promises
        self.promises = []
        promises.forEach { $0.fail(ChannelError.ioOnClosedChannel) }
        context.close(mode: mode, promise: promise)
    }
}
