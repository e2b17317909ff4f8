import Backends
import Consumer
import Foundation
import InMemoryLogging
import Logging
import Notifications
import Testing

/// The consumer end to end over the real embedded backends: object store, SQLite queue,
/// JSONL topics and the SQLite event index, each in a temporary data dir.
@Suite("Consumer pipeline (embedded backends)", .timeLimit(.minutes(3)))
struct ConsumerPipelineTests {
    @Test func storedInviteIsPublishedToCreateAndTheMessageDeleted() async throws {
        let fixture = try PipelineFixture()
        try await fixture.deliver(InviteMessages.request(uid: "planning-2026@example.com", sequence: 0), key: "incoming/msg-0001")

        try await fixture.withRunningConsumer {
            try await fixture.eventually("the invite is published and its queue message deleted") {
                try await fixture.hasPublished(1, to: .create)
            }
        }

        let line = try #require(try fixture.published(.create).first)
        let event = try line.event
        #expect(line.Route == "create")
        #expect(line.DeduplicationId == "msg-0001/planning-2026@example.com/0")
        #expect(line.MessageAttributes["method"]?.Value == "request")
        #expect(line.MessageAttributes["uid"]?.Value == "msg-0001")
        #expect(event.method == "request")
        #expect(event.uid == "msg-0001")
        #expect(event.original_uid == "planning-2026@example.com")
        #expect(event.organizer == "olivia@example.com")
        #expect(event.dtstart == "20261202T140000Z")
        #expect(event.dtend == "20261202T150000Z")
        #expect(event.bucket == PipelineFixture.bucket)
        #expect(event.key == "incoming/msg-0001")
        #expect(try fixture.publishedCount() == 1)
    }

    @Test func knownUIDGoesToUpdateAndCancelToCancel() async throws {
        let fixture = try PipelineFixture()
        try await fixture.deliver(InviteMessages.request(uid: "weekly@example.com", sequence: 0), key: "msg-a")
        try await fixture.withRunningConsumer {
            // Published and deleted: its UID is recorded only after the topic line is written.
            try await fixture.eventually("the first request is published") { try await fixture.hasPublished(1, to: .create) }
            try await fixture.deliver(InviteMessages.request(uid: "weekly@example.com", sequence: 1), key: "msg-b")
            try await fixture.eventually("the second request is published") { try await fixture.hasPublished(1, to: .update) }
            try await fixture.deliver(InviteMessages.cancel(uid: "weekly@example.com", sequence: 2), key: "msg-c")
            try await fixture.eventually("the cancel is published and the queue empty") {
                try await fixture.hasPublished(1, to: .cancel)
            }
        }
        #expect(try fixture.published(.create).map { try $0.event.uid } == ["msg-a"])
        #expect(try fixture.published(.update).map { try $0.event.uid } == ["msg-b"])
        #expect(try fixture.published(.update).first?.event.sequence == 1)
        #expect(try fixture.published(.cancel).map { try $0.event.uid } == ["msg-c"])
    }

    @Test func withoutAnIndexSequenceDecides() async throws {
        let fixture = try PipelineFixture(index: .none)
        try await fixture.deliver(InviteMessages.request(uid: "noindex@example.com", sequence: 0), key: "msg-new")
        try await fixture.deliver(InviteMessages.request(uid: "noindex@example.com", sequence: 0), key: "msg-again")
        try await fixture.deliver(InviteMessages.request(uid: "noindex@example.com", sequence: 3), key: "msg-seq3")
        try await fixture.withRunningConsumer {
            try await fixture.eventually("all three are published") { try await fixture.hasPublishedInAll(3) }
        }
        #expect(try Set(fixture.published(.create).map { try $0.event.uid }) == ["msg-new", "msg-again"])
        #expect(try fixture.published(.update).map { try $0.event.uid } == ["msg-seq3"])
    }

    @Test func messageWithoutCalendarGoesToFailure() async throws {
        let fixture = try PipelineFixture()
        try await fixture.deliver(InviteMessages.withoutCalendar(), key: "msg-plain", mailFrom: "bounces@example.com")
        try await fixture.withRunningConsumer {
            try await fixture.eventually("the failure notice is published") {
                try await fixture.hasPublished(1, to: .failure)
            }
        }
        let line = try #require(try fixture.published(.failure).first)
        #expect(line.DeduplicationId == "msg-plain/failure")
        #expect(line.MessageAttributes["uid"]?.Value == "msg-plain")
        let event = try line.event
        #expect(event.uid == "msg-plain")
        #expect(event.mailto == "olivia@example.com")
        #expect(event.reason?.isEmpty == false)
        #expect(try fixture.publishedCount() == 1)
    }

    @Test func testEventIsDeletedAndPublishesNothing() async throws {
        let fixture = try PipelineFixture()
        _ = try await fixture.queue.send(body: S3EventBodies.testEvent)
        try await fixture.withRunningConsumer {
            try await fixture.eventually("the test event is deleted") { try await fixture.queueIsEmpty() }
        }
        #expect(try fixture.publishedCount() == 0)
        #expect(fixture.logged("S3 test event deleted"))
    }

    @Test func keyWithSpacesAndPlusIsFetched() async throws {
        let fixture = try PipelineFixture()
        try await fixture.deliver(InviteMessages.request(uid: "odd-key@example.com", sequence: 0), key: "in box/a+b é")
        try await fixture.withRunningConsumer {
            try await fixture.eventually("the invite is published") { try await fixture.hasPublished(1, to: .create) }
        }
        #expect(try fixture.published(.create).first?.event.key == "in box/a+b é")
        #expect(try fixture.published(.create).first?.event.uid == "a+b é")
    }

    @Test func severalMessagesAreAllProcessedConcurrently() async throws {
        let fixture = try PipelineFixture()
        for number in 0..<12 {
            try await fixture.deliver(InviteMessages.request(uid: "batch-\(number)@example.com", sequence: 0), key: "msg-\(number)")
        }
        try await fixture.withRunningConsumer {
            try await fixture.eventually("all twelve are published") { try await fixture.hasPublished(12, to: .create) }
        }
        #expect(try Set(fixture.published(.create).map { try $0.event.original_uid ?? "" }) == Set((0..<12).map { "batch-\($0)@example.com" }))
    }

    @Test func gracefulShutdownEndsALongPoll() async throws {
        let fixture = try PipelineFixture()
        var configuration = PipelineFixture.fastConfiguration
        configuration.pollWaitTime = 20
        let shutdownRequested = try await fixture.withRunningConsumer(configuration) {
            try await fixture.eventually("the consumer is polling") { fixture.logged("Consumer started") }
            try await Task.sleep(for: .milliseconds(200))
            return ContinuousClock.now
        }
        // Without giving up the poll, the shutdown would wait for the rest of the 20 seconds.
        #expect(ContinuousClock.now - shutdownRequested < .seconds(10))
        #expect(fixture.logged("Consumer stopped"))
    }
}
