import Backends
import Consumer
import Foundation
import InMemoryLogging
import Logging
import Notifications
import Testing

/// Faults: a topic that is unavailable and comes back, a consumer that dies between publish
/// and delete, and poison messages that must end in the dead-letter queue.
@Suite("Consumer faults (embedded backends)", .timeLimit(.minutes(3)))
struct ConsumerFaultTests {
    @Test func topicUnavailableThenBackPublishesExactlyOnce() async throws {
        let fixture = try PipelineFixture()
        // A regular file where the topics directory should be: every publish fails, even as root.
        try FileManager.default.removeItem(atPath: fixture.topicsDirectory)
        #expect(FileManager.default.createFile(atPath: fixture.topicsDirectory, contents: Data()))
        try await fixture.deliver(InviteMessages.request(uid: "outage@example.com", sequence: 0), key: "msg-outage")

        try await fixture.withRunningConsumer {
            try await fixture.eventually("a publish fails and the message is kept for a retry") {
                fixture.logs.entries.contains {
                    $0.message.description == "Message processing failed; retrying later" && $0.metadata["consumer.stage"] == "publish"
                }
            }
            #expect(try await fixture.queue.statistics().deadLetters == 0)
            try FileManager.default.removeItem(atPath: fixture.topicsDirectory)
            try FileManager.default.createDirectory(atPath: fixture.topicsDirectory, withIntermediateDirectories: false)
            try await fixture.eventually("the retry publishes and deletes the message") {
                try await fixture.hasPublished(1, to: .create)
            }
        }
        #expect(try fixture.publishedCount() == 1)
        #expect(try fixture.published(.create).first?.DeduplicationId == "msg-outage/outage@example.com/0")
    }

    @Test func redeliveryAfterACrashBeforeTheDeletePublishesNothingAgain() async throws {
        let fixture = try PipelineFixture()
        try await fixture.deliver(InviteMessages.request(uid: "crash@example.com", sequence: 0), key: "msg-crash")

        // A consumer receives the message and publishes, then dies before deleting it.
        let received = try await fixture.queue.receive(maxMessages: 1, visibilityTimeout: 1, waitTime: 0)
        let message = try #require(received.first)
        let outcome = try await fixture.processor.process(message, logger: fixture.logger)
        #expect(outcome == .processed(publishedCount: 1))

        // After the visibility timeout the message is delivered again, to a fresh consumer, which
        // finds the publish in the ledger.
        try await fixture.withRunningConsumer {
            try await fixture.eventually("the redelivered message is deleted") { try await fixture.queueIsEmpty() }
        }
        let lines = try fixture.published(.create)
        #expect(lines.map(\.DeduplicationId) == ["msg-crash/crash@example.com/0"])
        #expect(try fixture.published(.update).isEmpty)
        #expect(fixture.logged("Event request already published; not published again"))
    }

    @Test func poisonMessagesReachTheDeadLetterQueueAfterTheConfiguredReceives() async throws {
        let fixture = try PipelineFixture(maxReceiveCount: 2)
        let junk = try await fixture.queue.send(body: "this is not an S3 event")
        let missing = try await fixture.queue.send(body: S3EventBodies.objectCreated(bucket: PipelineFixture.bucket, key: "no-such-object"))
        let otherBucket = try await fixture.queue.send(body: S3EventBodies.objectCreated(bucket: "someone-elses-bucket", key: "msg"))

        // A message left for the dead-letter queue comes back when its visibility timeout expires.
        var configuration = PipelineFixture.fastConfiguration
        configuration.visibilityTimeout = 1
        try await fixture.withRunningConsumer(configuration) {
            try await fixture.eventually("all three are dead letters") { try await fixture.queue.statistics().deadLetters == 3 }
        }
        let deadLetters = try await fixture.queue.deadLetters()
        #expect(Set(deadLetters.map(\.messageId)) == [junk, missing, otherBucket])
        #expect(deadLetters.allSatisfy { $0.receiveCount == 2 })
        #expect(try await fixture.queue.statistics() == SQLiteMessageQueue.Statistics(visible: 0, inFlight: 0, deadLetters: 3))
        #expect(try fixture.publishedCount() == 0)
        let kept = fixture.logs.entries.filter { $0.message.description == "Message cannot be processed; left for the dead-letter queue" }
        #expect(kept.count == 6)
        #expect(kept.allSatisfy { !"\($0.metadata)".contains("this is not an S3 event") })
    }
}
