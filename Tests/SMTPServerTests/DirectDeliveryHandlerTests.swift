import InMemoryLogging
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
@testable import SMTPServer
import SMTPCore
import Testing

/// A `DirectMessageSink` whose deliveries the test answers by hand.
final class AnsweredByHandSink: DirectMessageSink {
    struct Submission: Sendable {
        var message: ReceivedMessage
        var completion: @Sendable (Result<DeliveryReceipt, any Error>) -> Void
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String { "disk on fire" }
    }

    private let pending = NIOLockedValueBox<[Submission]>([])
    let deliversDirectly = true

    var submissions: [Submission] { self.pending.withLockedValue { $0 } }

    func submit(_ message: ReceivedMessage, completion: @escaping @Sendable (Result<DeliveryReceipt, any Error>) -> Void) {
        self.pending.withLockedValue { $0.append(Submission(message: message, completion: completion)) }
    }

    func deliver(_ message: ReceivedMessage) async throws -> DeliveryReceipt {
        try await withCheckedThrowingContinuation { continuation in
            self.submit(message) { continuation.resume(with: $0) }
        }
    }

    /// Answers the oldest submission. (An `EmbeddedEventLoop` takes work from its own thread
    /// only; the server tests answer from other threads.)
    func answer(_ result: Result<DeliveryReceipt, any Error>) {
        let submission = self.pending.withLockedValue { $0.removeFirst() }
        submission.completion(result)
    }
}

/// The handler with a `DirectMessageSink`: messages held in memory go to the sink from the
/// event loop, and its answer becomes the reply through the event loop.
@Suite struct DirectDeliveryHandlerTests {
    private static let delivered = Result<DeliveryReceipt, any Error>.success(DeliveryReceipt(messageId: "abc", objectKey: "inbound/abc"))

    @Test func aMessageInMemoryGoesToTheSinkAndTheReplyWaitsForItsAnswer() throws {
        let sink = AnsweredByHandSink()
        let harness = try HandlerHarness(directSink: sink)
        try harness.startTransaction()
        try harness.send("Subject: hi\r\n\r\n..dot\r\n")
        try harness.send(".\r\nNOOP\r\n")
        #expect(try harness.events().isEmpty, "nothing goes to the async side")
        let submission = try #require(sink.submissions.first)
        #expect(sink.submissions.count == 1)
        #expect(submission.message.content == .memory(Array("Subject: hi\r\n\r\n.dot\r\n".utf8)))
        #expect(submission.message.envelope.mailFrom == "organizer@example.com")
        #expect(submission.message.envelope.clientAddress == "192.0.2.7")
        harness.channel.embeddedEventLoop.run()
        #expect(try harness.output() == "", "no reply and no NOOP answer before the sink answers")
        sink.answer(Self.delivered)
        #expect(try harness.output() == "", "the answer comes through the event loop")
        harness.channel.embeddedEventLoop.run()
        #expect(try harness.codes() == ["250 2.0.0", "250 2.0.0"])
        let lines = harness.logs.entries.filter { $0.message == "transaction" }
        #expect(lines.first?.metadata["smtp.message.id"] == "abc")
        #expect(lines.first?.metadata["smtp.outcome"] == "delivered")
    }

    @Test func aFailedDirectDeliveryIs451AndLogged() throws {
        let sink = AnsweredByHandSink()
        let harness = try HandlerHarness(directSink: sink)
        try harness.startTransaction()
        try harness.send("x\r\n.\r\n")
        sink.answer(.failure(AnsweredByHandSink.Failure()))
        harness.channel.embeddedEventLoop.run()
        #expect(try harness.codes() == ["451 4.3.0"])
        let failure = harness.logs.entries.first { $0.message == "message not stored" }
        #expect(failure?.metadata["error"] == "disk on fire")
    }

    @Test func textOverTheMemoryLimitGoesToTheAsyncSideWhole() throws {
        let sink = AnsweredByHandSink()
        let harness = try HandlerHarness(maximumMessageSize: 1000, directSink: sink, memoryLimit: 20)
        try harness.startTransaction()
        try harness.send("0123456789\r\n")
        #expect(try harness.events().isEmpty)
        try harness.send("0123456789\r\n")
        try harness.send("tail\r\n.\r\n")
        let message = try #require(try harness.completedMessage())
        #expect(message.text == "0123456789\r\n0123456789\r\ntail\r\n")
        #expect(sink.submissions.isEmpty)
        try harness.channel.writeOutbound(SMTPDeliveryOutcome.delivered(DeliveryReceipt(messageId: "m", objectKey: "inbound/m")))
        #expect(try harness.codes() == ["250 2.0.0"])
        // The next message starts in memory again.
        try harness.send("MAIL FROM:<>\r\nRCPT TO:<create@localhost>\r\nDATA\r\nsmall\r\n.\r\n")
        #expect(sink.submissions.count == 1)
        #expect(try harness.events().isEmpty)
    }

    @Test func anOversizedMessageIsRefusedWithoutReachingEitherSide() throws {
        let sink = AnsweredByHandSink()
        let harness = try HandlerHarness(maximumMessageSize: 100, directSink: sink, memoryLimit: 1000)
        try harness.startTransaction()
        try harness.send(String(repeating: "0123456789", count: 20) + "\r\n.\r\nNOOP\r\n")
        #expect(try harness.codes() == ["552 5.3.4", "250 2.0.0"])
        #expect(try harness.events().isEmpty)
        #expect(sink.submissions.isEmpty)
    }

    @Test func aClientGoneBeforeTheAnswerGetsNoReply() throws {
        let sink = AnsweredByHandSink()
        let harness = try HandlerHarness(directSink: sink)
        try harness.startTransaction()
        try harness.send("x\r\n.\r\n")
        try harness.channel.close().wait()
        sink.answer(Self.delivered)
        harness.channel.embeddedEventLoop.run()
        #expect(try harness.output() == "")
        #expect(!harness.logs.entries.contains { $0.message == "transaction" })
    }

    @Test func shutdownWaitsForTheDirectDeliveryThenCloses() throws {
        let sink = AnsweredByHandSink()
        let harness = try HandlerHarness(directSink: sink)
        try harness.startTransaction()
        try harness.send("x\r\n.\r\n")
        harness.channel.pipeline.fireUserInboundEventTriggered(SMTPServerHandler.ShutdownRequested())
        #expect(try harness.output() == "")
        #expect(harness.channel.isActive)
        sink.answer(Self.delivered)
        harness.channel.embeddedEventLoop.run()
        #expect(try harness.codes() == ["250 2.0.0", "421 4.3.2"])
        #expect(!harness.channel.isActive)
    }
}
