import Foundation
import Logging
import NIOCore
import NIOSSL
import NIOTLS
import SMTPCore

/// One SMTP session on a channel: frames input, feeds the `SessionStateMachine`, and carries
/// out its actions. With a `DirectDelivery`, message text that fits in its memory limit is
/// held here and the complete message handed to its sink from the event loop; the sink's
/// answer comes back on the event loop. Other message text goes on to the connection's
/// async side as `SMTPConnectionEvent`s; the async side answers a complete message with an
/// `SMTPDeliveryOutcome`. Either answer becomes the reply to the final dot.
final class SMTPServerHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = SMTPConnectionEvent
    typealias OutboundIn = SMTPDeliveryOutcome
    typealias OutboundOut = ByteBuffer

    /// Sent into the pipeline when the server shuts down gracefully.
    struct ShutdownRequested: Sendable {}

    private var session: SessionStateMachine
    private let admission: ConnectionLimiter.Admission
    private let client: (address: String, port: Int)
    private let deadlines: Deadlines
    private let tlsContext: NIOSSLContext?
    private let directDelivery: DirectDelivery?
    private var logger: Logger

    private var lineDecoder = SMTPLineDecoder(maximumLineLength: SessionConfiguration.maximumCommandLineLength)
    private var dataDecoder: DataDecoder?
    /// The text of the message being received, while it is held here for `directDelivery`;
    /// nil when it goes on to the async side.
    private var heldText: ByteBuffer?
    /// Bytes received and not yet framed.
    private var inbound = ByteBuffer()
    private var started = false
    /// The deadline of what the session waits for now (command, text, handshake); nil while
    /// it waits for nothing. Moving it later leaves `timer` as it is: when that fires early,
    /// it is scheduled again for the rest (a re-arm per command or read would otherwise
    /// cancel and schedule a task each time).
    private var deadline: (at: NIODeadline, tooSlow: Bool)?
    /// Fires at `timerFiresAt`, at or before `deadline`.
    private var timer: Scheduled<Void>?
    private var timerFiresAt: NIODeadline?
    private var sessionTimer: Scheduled<Void>?
    private var closeTimer: Scheduled<Void>?
    /// Set at the 354: the minimum-rate deadline and the raw DATA bytes taken so far.
    private var dataRate: DataRateDeadline?
    private var dataBytesReceived = 0
    /// Reply bytes written and not yet handed to the socket.
    private var pendingReplyBytes = 0
    /// Reads are held back while a message is being delivered.
    private var readsPaused = false
    private var readPending = false
    private var needsFlush = false
    /// Events were passed on since the last `channelReadComplete`.
    private var eventsPending = false
    private var lastWrite: EventLoopFuture<Void>?
    /// For the metrics: a transaction was counted as started and has not ended; when DATA ended.
    private var transactionOpen = false
    private var deliveryStarted: NIODeadline?

    init(
        configuration: SessionConfiguration, admission: ConnectionLimiter.Admission, clientAddress: String,
        clientPort: Int, clientNetwork: ClientNetwork? = nil, deadlines: Deadlines, tlsContext: NIOSSLContext?,
        directDelivery: DirectDelivery? = nil, logger: Logger
    ) {
        self.session = SessionStateMachine(configuration: configuration)
        self.admission = admission
        self.client = (clientAddress, clientPort)
        self.deadlines = deadlines
        self.tlsContext = tlsContext
        self.directDelivery = directDelivery
        self.logger = logger
        self.logger[metadataKey: "smtp.client.address"] = "\(clientAddress)"
        if let clientNetwork {
            self.logger[metadataKey: "smtp.client.network"] = "\(clientNetwork)"
        }
    }

    // MARK: Inbound

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive {
            self.start(context: context)
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        self.start(context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = self.unwrapInboundIn(data)
        guard self.session.phase != .closed else { return }
        if self.inbound.readableBytes == 0 {
            self.inbound = bytes
        } else {
            self.inbound.writeBuffer(&bytes)
        }
        self.processInbound(context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.cancelTimers()
        self.countConnectionClosed()
        if self.session.phase == .receivingData {
            self.discardMessageText(context: context)
            self.logger.notice("connection lost during DATA", metadata: ["smtp.stage": "DATA"])
        }
        self.session.connectionClosed()
        self.countTransactionPhase()
        if self.eventsPending {
            self.eventsPending = false
            context.fireChannelReadComplete()
        }
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case TLSUserEvent.handshakeCompleted:
            Self.acknowledgeNow(context.channel)
            self.logger[metadataKey: "smtp.tls"] = "true"
            SMTPServerMetrics.tlsHandshake(try? context.pipeline.syncOperations.nioSSL_tlsVersion())
            self.run(self.session.tlsHandshakeCompleted(), context: context)
            self.finishProcessing(context: context)
        case is ShutdownRequested:
            self.run(self.session.shutdownRequested(), context: context)
            self.finishProcessing(context: context)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    /// Acknowledges the client's last handshake flight at once. The client's next command (EHLO)
    /// follows its small Finished record, and a client with Nagle's algorithm on holds it until
    /// that record is acknowledged; OpenSSL servers acknowledge it with their TLS 1.3 session
    /// tickets, BoringSSL (swift-nio-ssl) sends none, so the ACK would wait for the delayed-ACK
    /// timer: 40 ms per STARTTLS session on Linux.
    private static func acknowledgeNow(_ channel: any Channel) {
        #if os(Linux)
        let quickAck = ChannelOptions.Types.SocketOption(level: .tcp, name: NIOBSDSocket.Option(rawValue: CInt(TCP_QUICKACK)))
        try? channel.syncOptions?.setOption(quickAck, value: 1)
        #endif
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A client that drops TLS without close_notify has nothing more to say; not worth a warning.
        let level: Logger.Level = (error as? NIOSSLError) == .uncleanShutdown ? .debug : .warning
        self.countTLSFailureIfHandshaking()
        self.logger.log(
            level: level, "connection error",
            metadata: ["smtp.stage": "\(self.session.phase)", "error": "\(error)"])
        self.session.connectionClosed()
        context.close(promise: nil)
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        promise?.succeed()
        self.deliveryAnswered(self.unwrapOutboundIn(data), context: context)
    }

    /// Replies to the final dot with the sink's answer, then goes on with what the client sent after it.
    private func deliveryAnswered(_ outcome: SMTPDeliveryOutcome, context: ChannelHandlerContext) {
        if let started = self.deliveryStarted.take() {
            SMTPServerMetrics.repliedToData(afterNanoseconds: (NIODeadline.now() - started).nanoseconds)
        }
        let deliveryOutcome: SessionStateMachine.DeliveryOutcome
        switch outcome {
        case .delivered(let receipt):
            deliveryOutcome = .delivered(messageId: receipt.messageId)
        case .failed(let reason):
            self.logger.error("message not stored", metadata: ["error": "\(reason)"])
            deliveryOutcome = .failed
        }
        self.run(self.session.deliveryFinished(deliveryOutcome), context: context)
        self.resumeReads(context: context)
        // Commands pipelined after the final dot waited in the buffer.
        self.processInbound(context: context)
    }

    func flush(context: ChannelHandlerContext) {
        // The async side flushes after each outcome; replies are flushed by `finishProcessing`.
    }

    /// Reads stop while a message is being delivered, and while the socket cannot take more
    /// (the client is not reading its replies): no input is taken that would need a reply
    /// there is no room for.
    func read(context: ChannelHandlerContext) {
        if self.readsPaused || !context.channel.isWritable {
            self.readPending = true
        } else {
            context.read()
        }
    }

    /// Not passed on: the async side writes only delivery outcomes, which this handler turns
    /// into replies itself. Were it told the socket is not writable, it would hold the outcome
    /// of a stored message, and the session would wait for it past every deadline.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        self.readIfAllowed(context: context)
    }

    // MARK: Processing

    private func start(context: ChannelHandlerContext) {
        guard !self.started else { return }
        self.started = true
        switch self.admission {
        case .admitted:
            self.logger.debug("connection opened")
            SMTPServerMetrics.connectionOpened()
            self.sessionTimer = context.eventLoop.assumeIsolated().scheduleTask(in: self.deadlines.session) {
                self.logger.notice("session time limit reached", metadata: ["smtp.stage": "\(self.session.phase)"])
                if self.session.phase == .receivingData {
                    self.discardMessageText(context: context)
                }
                self.run(self.session.sessionTimeLimitReached(), context: context)
                self.finishProcessing(context: context)
            }
            self.run(self.session.connectionEstablished(), context: context)
        case .tooManyConnections:
            self.logger.notice("connection refused: too many connections")
            self.run(
                self.session.connectionRefused(reply: .tooManyConnections(hostname: self.session.configuration.hostname)),
                context: context)
        case .tooManyFromNetwork:
            self.logger.notice("connection refused: too many connections from the network")
            self.run(
                self.session.connectionRefused(
                    reply: .tooManyConnectionsFromAddress(hostname: self.session.configuration.hostname)),
                context: context)
        case .connectionRateExceeded:
            self.logger.notice("connection refused: connection rate limit")
            self.run(
                self.session.connectionRefused(
                    reply: .connectionRateExceeded(hostname: self.session.configuration.hostname)),
                context: context)
        }
        SMTPServerMetrics.connectionRefused(self.admission)
        self.finishProcessing(context: context)
    }

    /// Frames and handles everything buffered, as far as the session allows: pipelined
    /// commands are handled in order; handling stops while a message is being delivered.
    private func processInbound(context: ChannelHandlerContext) {
        while self.inbound.readableBytes > 0, self.session.phase != .closed {
            if var decoder = self.dataDecoder {
                let before = self.inbound.readableBytes
                let progress = self.decodeMessageText(with: &decoder, context: context)
                self.dataBytesReceived += before - self.inbound.readableBytes
                self.dataDecoder = decoder
                guard progress == .complete else { break }
                self.dataDecoder = nil
                self.dataRate = nil
                let actions = self.session.dataCompleted(size: decoder.size)
                if !actions.contains(where: { if case .deliver = $0 { true } else { false } }) {
                    self.discardMessageText(context: context)
                }
                self.run(actions, context: context)
                continue
            }
            guard self.session.isAcceptingCommands else { break }
            // Framing never throws: an overlong line becomes a `.tooLong` frame.
            guard let frame = try? self.lineDecoder.decode(buffer: &self.inbound) else { break }
            switch frame {
            case .tooLong:
                self.run(self.session.commandRejected(.lineTooLong), context: context)
            case .line(let line):
                let actions: [SessionStateMachine.Action]
                do {
                    actions = self.session.commandReceived(try CommandParser.parse(line))
                } catch {
                    actions = self.session.commandRejected(error)
                }
                self.run(actions, context: context)
            }
        }
        if self.inbound.readableBytes == 0 {
            self.inbound.clear()
        } else if self.inbound.readerIndex > 4096 {
            self.inbound.discardReadBytes()
        }
        self.finishProcessing(context: context)
    }

    private func run(_ actions: [SessionStateMachine.Action], context: ChannelHandlerContext) {
        for action in actions {
            switch action {
            case .sendReply(let reply):
                guard self.sendReply(reply, context: context) else { return }
            case .receiveData(let maximumSize):
                self.dataDecoder = DataDecoder(maximumSize: maximumSize)
                self.heldText = self.directDelivery.map { _ in context.channel.allocator.buffer(capacity: 0) }
                self.dataRate = DataRateDeadline(
                    started: context.eventLoop.now, grace: self.deadlines.minimumDataRateGrace,
                    minimumRate: self.deadlines.minimumDataRate)
                self.dataBytesReceived = 0
            case .startTLS:
                self.startTLS(context: context)
            case .deliver(let transaction):
                self.readsPaused = true
                self.deliveryStarted = .now()
                let envelope = SMTPEnvelope(
                    heloName: transaction.heloName, esmtp: transaction.esmtp,
                    mailFrom: transaction.reversePath.address,
                    recipients: transaction.recipients.map(\.address),
                    clientAddress: self.client.address, clientPort: self.client.port, tls: transaction.tls,
                    eightBitMIME: transaction.parameters.body == .eightBitMIME,
                    smtpUTF8: transaction.parameters.smtpUTF8)
                if let text = self.heldText.take(), let directDelivery = self.directDelivery {
                    self.deliverDirectly(text, envelope: envelope, to: directDelivery.sink, context: context)
                } else {
                    self.fire(context: context, .messageCompleted(envelope, receivedAt: Date()))
                }
            case .logTransaction(let record):
                self.logTransaction(record)
            case .closeConnection:
                self.close(context: context)
            }
        }
        self.countTransactionPhase()
    }

    /// Writes one reply; false when the client has left too many replies unread and the
    /// connection was closed instead. Replies are flushed early once half the allowance is
    /// pending, so a client that reads keeps it near zero however much it pipelines.
    private func sendReply(_ reply: SMTPReply, context: ChannelHandlerContext) -> Bool {
        var buffer = context.channel.allocator.buffer(capacity: 64)
        reply.write(into: &buffer)
        let size = buffer.readableBytes
        guard self.pendingReplyBytes + size <= self.deadlines.maximumPendingReplyBytes else {
            self.logger.notice(
                "closing: the client does not read its replies",
                metadata: ["smtp.stage": "\(self.session.phase)", "smtp.pending.bytes": "\(self.pendingReplyBytes)"])
            if self.session.phase == .receivingData {
                self.discardMessageText(context: context)
            }
            self.session.connectionClosed()
            self.cancelTimers()
            self.needsFlush = false
            context.close(promise: nil)
            return false
        }
        self.pendingReplyBytes += size
        SMTPServerMetrics.reply(reply)
        let promise = context.eventLoop.makePromise(of: Void.self)
        promise.futureResult.assumeIsolated().whenComplete { _ in
            self.pendingReplyBytes -= size
        }
        context.write(self.wrapOutboundOut(buffer), promise: promise)
        self.lastWrite = promise.futureResult
        self.needsFlush = true
        if self.pendingReplyBytes * 2 >= self.deadlines.maximumPendingReplyBytes {
            self.needsFlush = false
            context.flush()
        }
        return true
    }

    /// Takes the message text in `inbound`, up to the end of the message: into `heldText`
    /// while it fits the direct delivery's limit, else on to the async side (what was held
    /// first, in one piece).
    private func decodeMessageText(with decoder: inout DataDecoder, context: ChannelHandlerContext) -> DataDecoder.Progress {
        if var held = self.heldText, let limit = self.directDelivery?.memoryLimit {
            self.heldText = nil  // one reference, so the decoder writes in place
            held.reserveCapacity(minimumWritableBytes: min(self.inbound.readableBytes, limit + 1 - held.readableBytes))
            let progress = decoder.decode(&self.inbound, into: &held)
            if held.readableBytes <= limit {
                self.heldText = held
            } else {
                self.fire(context: context, .messageText(held))
            }
            return progress
        }
        var text = context.channel.allocator.buffer(capacity: self.inbound.readableBytes)
        let progress = decoder.decode(&self.inbound, into: &text)
        if text.readableBytes > 0 {
            self.fire(context: context, .messageText(text))
        }
        return progress
    }

    /// Forgets the text of a message that will not be delivered; the async side deletes its part.
    private func discardMessageText(context: ChannelHandlerContext) {
        if self.heldText.take() == nil {
            self.fire(context: context, .messageDiscarded)
        }
    }

    /// Hands a complete message held in memory to the sink; its answer comes back to this
    /// event loop (`deliveryAnswered`), from whichever thread made the message durable.
    private func deliverDirectly(
        _ text: ByteBuffer, envelope: SMTPEnvelope, to sink: any DirectMessageSink, context: ChannelHandlerContext
    ) {
        let message = ReceivedMessage(envelope: envelope, content: .memory(Array(text.readableBytesView)), receivedAt: Date())
        let eventLoop = context.eventLoop
        let handler = NIOLoopBound((self, context), eventLoop: eventLoop)
        sink.submit(message) { result in
            let outcome: SMTPDeliveryOutcome
            switch result {
            case .success(let receipt): outcome = .delivered(receipt)
            case .failure(let error): outcome = .failed(reason: "\(error)")
            }
            eventLoop.execute {
                let (handler, context) = handler.value
                // A client gone meanwhile gets no reply (the message is stored all the same).
                guard handler.session.phase == .delivering else { return }
                handler.deliveryAnswered(outcome, context: context)
            }
        }
    }

    /// Passes an event to the async side.
    private func fire(context: ChannelHandlerContext, _ event: SMTPConnectionEvent) {
        context.fireChannelRead(self.wrapInboundOut(event))
        self.eventsPending = true
    }

    /// Flushes replies and events, and re-arms the timer for whatever the session waits for now.
    private func finishProcessing(context: ChannelHandlerContext) {
        // The async channel hands reads on at `channelReadComplete`; events that did not come
        // from a socket read (commands pipelined after a delivery, timers) need one too.
        if self.eventsPending {
            self.eventsPending = false
            context.fireChannelReadComplete()
        }
        if self.needsFlush {
            self.needsFlush = false
            context.flush()
        }
        self.rearmTimer(context: context)
    }

    /// STARTTLS (RFC 3207 §4): the 220 reply goes out in plaintext, then everything the
    /// client sent after the command is dropped (it could be an injected command), and the
    /// TLS handler goes in front, in the same event-loop tick, so no plaintext slips in.
    private func startTLS(context: ChannelHandlerContext) {
        guard let tlsContext = self.tlsContext else {
            self.close(context: context)
            return
        }
        self.needsFlush = false
        context.flush()
        if self.inbound.readableBytes > 0 {
            self.logger.notice(
                "discarded bytes pipelined after STARTTLS", metadata: ["smtp.discarded.bytes": "\(self.inbound.readableBytes)"])
        }
        self.inbound.clear()
        do {
            try context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tlsContext), position: .first)
        } catch {
            self.logger.warning("cannot start TLS", metadata: ["error": "\(error)"])
            self.close(context: context)
        }
    }

    /// Closes once the last reply is written, or after the close grace period if it cannot
    /// be (a client that does not read, a TLS handshake that never ends).
    private func close(context: ChannelHandlerContext) {
        self.cancelTimers()
        self.needsFlush = false
        context.flush()
        guard let lastWrite = self.lastWrite else {
            context.close(promise: nil)
            return
        }
        let closeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: self.deadlines.closeGrace) {
            self.logger.debug("closing without the last reply written")
            context.close(promise: nil)
        }
        self.closeTimer = closeTimer
        lastWrite.assumeIsolated().whenComplete { _ in
            closeTimer.cancel()
            context.close(promise: nil)
        }
    }

    private func cancelTimers() {
        self.timer?.cancel()
        self.timer = nil
        self.timerFiresAt = nil
        self.deadline = nil
        self.sessionTimer?.cancel()
        self.sessionTimer = nil
    }

    private func rearmTimer(context: ChannelHandlerContext) {
        var timeout: TimeAmount
        var tooSlow = false
        switch self.session.phase {
        case .delivering, .closed:
            self.deadline = nil
            return
        case .receivingData:
            timeout = self.deadlines.data
            if let rateDeadline = self.dataRate?.deadline(received: self.dataBytesReceived) {
                let remaining = rateDeadline - context.eventLoop.now
                if remaining < timeout {
                    timeout = max(remaining, .zero)
                    tooSlow = true
                }
            }
        case .startingTLS:
            timeout = self.deadlines.tlsHandshake
        case .awaitingHello, .ready, .inTransaction:
            timeout = self.deadlines.command
        }
        let deadline = context.eventLoop.now + timeout
        self.deadline = (deadline, tooSlow)
        if self.timer != nil, let firesAt = self.timerFiresAt, firesAt <= deadline { return }
        self.timer?.cancel()
        self.scheduleTimer(at: deadline, context: context)
    }

    private func scheduleTimer(at firesAt: NIODeadline, context: ChannelHandlerContext) {
        self.timerFiresAt = firesAt
        self.timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: firesAt) {
            self.timerFired(context: context)
        }
    }

    private func timerFired(context: ChannelHandlerContext) {
        self.timer = nil
        self.timerFiresAt = nil
        guard let deadline = self.deadline else { return }
        if deadline.at > context.eventLoop.now {
            self.scheduleTimer(at: deadline.at, context: context)
            return
        }
        self.deadline = nil
        let reason = deadline.tooSlow ? "message text below the minimum data rate" : "timeout"
        self.countTLSFailureIfHandshaking()
        self.logger.notice(
            "\(reason)",
            metadata: ["smtp.stage": "\(self.session.phase)", "smtp.data.bytes": "\(self.dataBytesReceived)"])
        if self.session.phase == .receivingData {
            self.discardMessageText(context: context)
        }
        self.run(self.session.timeoutFired(), context: context)
        self.finishProcessing(context: context)
    }

    private func resumeReads(context: ChannelHandlerContext) {
        self.readsPaused = false
        self.readIfAllowed(context: context)
    }

    private func readIfAllowed(context: ChannelHandlerContext) {
        if self.readPending, !self.readsPaused, context.channel.isWritable {
            self.readPending = false
            context.read()
        }
    }

    private func logTransaction(_ record: SMTPTransactionRecord) {
        self.transactionOpen = false
        SMTPServerMetrics.transactionLogged(record)
        let replyCode = [String(record.reply.code), record.reply.enhancedCode?.description].compactMap { $0 }
            .joined(separator: " ")
        self.logger.info(
            "transaction",
            metadata: [
                "smtp.message.id": "\(record.messageId ?? "-")",
                "smtp.tls": "\(record.tls)",
                "smtp.message.size": "\(record.size)",
                "smtp.recipients.count": "\(record.recipientCount)",
                "smtp.outcome": "\(record.outcome.rawValue)",
                "smtp.reply.code": "\(replyCode)",
            ])
    }

    // MARK: Metrics

    private func countConnectionClosed() {
        guard self.started, self.admission == .admitted else { return }
        self.countTLSFailureIfHandshaking()
        SMTPServerMetrics.connectionClosed()
    }

    private func countTLSFailureIfHandshaking() {
        if self.session.phase == .startingTLS { SMTPServerMetrics.tlsHandshakeFailed() }
    }

    /// A transaction starts with the accepted MAIL and ends with its logged outcome, or is
    /// aborted when the session leaves it another way (RSET, EHLO, STARTTLS, a closed connection).
    private func countTransactionPhase() {
        switch self.session.phase {
        case .inTransaction, .receivingData, .delivering:
            if !self.transactionOpen {
                self.transactionOpen = true
                SMTPServerMetrics.transactionStarted()
            }
        case .awaitingHello, .ready, .startingTLS, .closed:
            if self.transactionOpen {
                self.transactionOpen = false
                SMTPServerMetrics.transactionAborted()
            }
        }
    }
}
