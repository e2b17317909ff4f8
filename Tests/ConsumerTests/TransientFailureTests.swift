import Backends
import Consumer
import Foundation
import InMemoryLogging
import Logging
import Notifications
import Testing

/// Transient failures (a backend unavailable) are retried without using up the queue's receive
/// limit; only permanent failures and repeated crashes of the same message dead-letter it.
@Suite("Transient and permanent failures (embedded backends)", .timeLimit(.minutes(3)))
struct TransientFailureTests {
    /// Retries every 50-100 ms.
    static func quickRetries(hold: Duration = ConsumerConfiguration.defaultMaximumTransientHold) -> ConsumerConfiguration {
        var configuration = PipelineFixture.fastConfiguration
        configuration.retryBackoff = RetryBackoff(base: .milliseconds(50), maximum: .milliseconds(100))
        configuration.maximumTransientHold = hold
        return configuration
    }

    /// Makes every publish fail, even as root: a regular file where the topics directory should be.
    static func breakTopics(_ fixture: PipelineFixture) throws {
        try FileManager.default.removeItem(atPath: fixture.topicsDirectory)
        #expect(FileManager.default.createFile(atPath: fixture.topicsDirectory, contents: Data()))
    }

    static func repairTopics(_ fixture: PipelineFixture) throws {
        try FileManager.default.removeItem(atPath: fixture.topicsDirectory)
        try FileManager.default.createDirectory(atPath: fixture.topicsDirectory, withIntermediateDirectories: false)
    }

    func transientFailures(_ fixture: PipelineFixture) -> Int {
        fixture.logs.entries.filter { $0.message.description == "Message processing failed; retrying later" }.count
    }

    @Test func failuresWhileTheMessageIsHeldDoNotCountAsReceives() async throws {
        let fixture = try PipelineFixture(maxReceiveCount: 2)
        try Self.breakTopics(fixture)
        try await fixture.deliver(InviteMessages.request(uid: "outage@example.com", sequence: 0), key: "msg-outage")

        try await fixture.withRunningConsumer(Self.quickRetries()) {
            try await fixture.eventually("ten transient failures") { self.transientFailures(fixture) >= 10 }
            #expect(try await fixture.queue.statistics().deadLetters == 0)
            try Self.repairTopics(fixture)
            try await fixture.eventually("the message is published and deleted") { try await fixture.hasPublished(1, to: .create) }
        }
        #expect(fixture.logs.entries.filter { $0.message.description == "Message received" }.count == 1)
        #expect(try await fixture.queue.statistics().deadLetters == 0)
    }

    @Test func aMessageHandedBackAfterTransientFailuresIsNotDeadLettered() async throws {
        let fixture = try PipelineFixture(maxReceiveCount: 2)
        try Self.breakTopics(fixture)
        try await fixture.deliver(InviteMessages.request(uid: "long-outage@example.com", sequence: 0), key: "msg-long-outage")

        // A hold shorter than one retry: every failure hands the message back to the queue
        // (hidden for a second), which receives it again: far more receives than the limit.
        try await fixture.withRunningConsumer(Self.quickRetries(hold: .milliseconds(1))) {
            try await fixture.eventually("four hand-backs", timeout: .seconds(90)) {
                fixture.logs.entries.filter { $0.message.description == "Message handed back to the queue for a later retry" }.count >= 4
            }
            #expect(try await fixture.queue.statistics().deadLetters == 0)
            try Self.repairTopics(fixture)
            try await fixture.eventually("the message is published and deleted") { try await fixture.hasPublished(1, to: .create) }
        }
        #expect(fixture.logs.entries.filter { $0.message.description == "Message received" }.count >= 4)
        #expect(try await fixture.queue.statistics().deadLetters == 0)
    }

    @Test func aPermanentFailureIsDeadLetteredAfterTheReceiveLimit() async throws {
        let fixture = try PipelineFixture(maxReceiveCount: 2)
        let missing = try await fixture.queue.send(body: S3EventBodies.objectCreated(bucket: PipelineFixture.bucket, key: "no-such-object"))
        var configuration = Self.quickRetries()
        configuration.visibilityTimeout = 1
        try await fixture.withRunningConsumer(configuration) {
            try await fixture.eventually("it is a dead letter") { try await fixture.queue.statistics().deadLetters == 1 }
        }
        #expect(try await fixture.queue.deadLetters().map(\.messageId) == [missing])
        #expect(self.transientFailures(fixture) == 0)
    }

    @Test func aMessageThatKeepsCrashingTheConsumerIsDeadLettered() async throws {
        let fixture = try PipelineFixture(maxReceiveCount: 2)
        let id = try await fixture.queue.send(body: S3EventBodies.objectCreated(bucket: PipelineFixture.bucket, key: "msg"))
        // Two consumers die while processing it: received, never handed back.
        for _ in 0..<2 {
            let received = try await fixture.queue.receive(maxMessages: 1, visibilityTimeout: 0, waitTime: 0)
            #expect(received.map(\.messageId) == [id])
        }
        #expect(try await fixture.queue.receive(maxMessages: 1, visibilityTimeout: 0, waitTime: 0).isEmpty)
        #expect(try await fixture.queue.deadLetters().map(\.messageId) == [id])
    }
}
