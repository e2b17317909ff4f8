import Backends
import Consumer
import Foundation
import Notifications
import Testing

/// Every publish takes effect once: a redelivery after a crash at any point, or a retry after
/// a failure halfway through a message's events, publishes nothing twice.
@Suite("Exactly-once publishing (embedded backends)", .timeLimit(.minutes(3)))
struct ExactlyOnceTests {
    /// Where the first consumer stops.
    enum CrashPoint: String, CaseIterable, Sendable {
        /// The publish succeeded; the ledger record did not happen.
        case afterPublishBeforeRecord
        /// Published and recorded; the queue message was not deleted (a crash, or a failed delete).
        case afterRecordBeforeDelete
    }

    @Test(arguments: CrashPoint.allCases)
    func redeliveryAfterACrashPublishesNothingTwice(_ crashPoint: CrashPoint) async throws {
        let fixture = try PipelineFixture()
        try await fixture.deliver(InviteMessages.request(uid: "crash@example.com", sequence: 0), key: "msg-crash")

        // The first consumer receives the message and stops at the crash point, without deleting it.
        let received = try await fixture.queue.receive(maxMessages: 1, visibilityTimeout: 1, waitTime: 0)
        let message = try #require(received.first)
        switch crashPoint {
        case .afterPublishBeforeRecord:
            let crashing = MessageProcessor(
                objectStore: fixture.objectStore, publisher: fixture.topics, eventIndex: fixture.eventIndex,
                publishLedger: CrashingLedger(recordingTo: fixture.ledger))
            await #expect(throws: MessageProcessingError.self) { try await crashing.process(message, logger: fixture.logger) }
        case .afterRecordBeforeDelete:
            #expect(try await fixture.processor.process(message, logger: fixture.logger) == .processed(publishedCount: 1))
        }
        #expect(try fixture.published(.create).count == 1)

        // After the visibility timeout the message is delivered again, to a fresh consumer.
        try await fixture.withRunningConsumer {
            try await fixture.eventually("the redelivered message is deleted") { try await fixture.queueIsEmpty() }
        }
        let lines = try fixture.published(.create)
        #expect(lines.map(\.DeduplicationId) == ["msg-crash/crash@example.com/0"])
        #expect(try fixture.published(.update).isEmpty)
        #expect(try await fixture.ledger.publishedMessageId(for: PublishKey(requestId: "msg-crash", uid: "crash@example.com", sequence: 0, route: .create)) != nil)
    }

    /// A topic without deduplication (as an SNS standard topic): the ledger alone keeps the
    /// events published before a failure from being published again.
    @Test(arguments: [0, 2, 4])
    func aPublishFailingAtEventKPublishesEachEventOnce(failingAt eventIndex: Int) async throws {
        let fixture = try PipelineFixture()
        let standardTopic = try JSONLTopicPublisher(directory: fixture.topicsDirectory, deduplicationWindow: 0)
        let uids = (0..<5).map { "series-\($0)@example.com" }
        try await fixture.deliver(InviteMessages.publish(uids: uids), key: "msg-publish")

        let received = try await fixture.queue.receive(maxMessages: 1, visibilityTimeout: 1, waitTime: 0)
        let message = try #require(received.first)
        let failing = fixture.processor(publisher: FailingPublisher(publisher: standardTopic, failingAt: eventIndex))
        await #expect(throws: MessageProcessingError.self) { try await failing.process(message, logger: fixture.logger) }
        #expect(try fixture.published(.create).count == eventIndex)

        let service = ConsumerService(
            queue: fixture.queue, processor: fixture.processor(publisher: standardTopic), configuration: PipelineFixture.fastConfiguration,
            logger: fixture.logger)
        try await fixture.withRunning(service) {
            try await fixture.eventually("the retry publishes the rest and deletes the message") { try await fixture.queueIsEmpty() }
        }
        let published = try fixture.published(.create).map { try $0.event.original_uid ?? "" }
        #expect(published.sorted() == uids.sorted())
    }

    @Test func aRepeatedPublishOnTheSameTopicFileIsNotASecondLine() async throws {
        let fixture = try PipelineFixture()
        let message = TopicMessage(defaultMessage: "{}", attributes: ["uid": "r"], deduplicationId: "r/u/0")
        let first = try await fixture.topics.publish(message, to: .update)
        // Another process (a second publisher on the same directory) repeats it.
        let other = try JSONLTopicPublisher(directory: fixture.topicsDirectory)
        #expect(try await other.publish(message, to: .update) == first)
        #expect(try await fixture.topics.publish(message, to: .update) == first)
        #expect(try fixture.published(.update).count == 1)
    }

    @Test func aTornLastLineIsCutBeforeTheNextAppend() async throws {
        let fixture = try PipelineFixture()
        _ = try await fixture.topics.publish(TopicMessage(defaultMessage: "{}", attributes: [:], deduplicationId: "one"), to: .cancel)
        // A machine crash mid-write left half a line.
        let handle = try #require(FileHandle(forWritingAtPath: fixture.topics.path(for: .cancel)))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"DeduplicationId\":\"two\",\"Mess".utf8))
        try handle.close()

        let fresh = try JSONLTopicPublisher(directory: fixture.topicsDirectory)
        _ = try await fresh.publish(TopicMessage(defaultMessage: "{}", attributes: [:], deduplicationId: "two"), to: .cancel)
        let text = try String(contentsOfFile: fixture.topics.path(for: .cancel), encoding: .utf8)
        #expect(text.hasSuffix("\n"))
        #expect(try fixture.published(.cancel).map(\.DeduplicationId) == ["one", "two"])
    }
}

/// The real ledger, except that recording fails: the process dies right after the publish.
struct CrashingLedger: PublishLedger {
    let recordingTo: SQLiteEventIndex

    func publishedMessageId(for key: PublishKey) async throws -> String? {
        try await self.recordingTo.publishedMessageId(for: key)
    }

    func recordPublished(_ key: PublishKey, messageId: String) async throws {
        throw BackendError(.unavailable, backend: "test", operation: "recordPublished", message: "the consumer died here")
    }
}

/// The real publisher, except that its publish number `failingAt` (0-based) fails.
final class FailingPublisher: TopicPublisher, @unchecked Sendable {
    // @unchecked: `count` is guarded by `lock`.
    private let publisher: any TopicPublisher
    private let failingAt: Int
    private let lock = NSLock()
    private var count = 0

    init(publisher: any TopicPublisher, failingAt: Int) {
        self.publisher = publisher
        self.failingAt = failingAt
    }

    func publish(_ message: TopicMessage, to route: Route) async throws -> String {
        let number = self.lock.withLock {
            defer { self.count += 1 }
            return self.count
        }
        if number == self.failingAt {
            throw BackendError(.unavailable, backend: "test", operation: "publish", message: "topic unavailable")
        }
        return try await self.publisher.publish(message, to: route)
    }
}

extension InviteMessages {
    /// A PUBLISH with one VEVENT per UID.
    static func publish(uids: [String]) -> [UInt8] {
        let events = uids.map { uid in
            """
            BEGIN:VEVENT
            UID:\(uid)
            SEQUENCE:0
            DTSTAMP:20261125T150000Z
            DTSTART:20261202T140000Z
            DTEND:20261202T150000Z
            SUMMARY:Session \(uid)
            ORGANIZER;CN=Olivia Organizer:mailto:olivia@example.com
            END:VEVENT
            """
        }.joined(separator: "\n")
        let text = """
            From: Olivia Organizer <olivia@example.com>
            To: create@invites.example.com
            Subject: Conference schedule
            Date: Wed, 25 Nov 2026 15:00:00 +0000
            Message-ID: <publish@example.com>
            MIME-Version: 1.0
            Content-Type: text/calendar; charset=utf-8; method=PUBLISH

            BEGIN:VCALENDAR
            VERSION:2.0
            PRODID:-//cis tests//EN
            METHOD:PUBLISH
            \(events)
            END:VCALENDAR

            """
        return Array(text.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\r\n").utf8)
    }
}
