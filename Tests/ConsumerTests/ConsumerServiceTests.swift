import Backends
import Consumer
import Foundation
import InMemoryLogging
import Logging
import Notifications
import ServiceLifecycle
import Testing

@Suite("Consumer service", .timeLimit(.minutes(3)))
struct ConsumerServiceTests {
    /// Records the waits the service asks for, and waits a little for real so the loop yields.
    actor SleepRecorder {
        private(set) var delays: [Duration] = []

        func record(_ delay: Duration) {
            self.delays.append(delay)
        }
    }

    @Test func queueFailuresBackOffThroughTheInjectedSleep() async throws {
        let fixture = try PipelineFixture()
        let recorder = SleepRecorder()
        // The embedded queue refuses a visibility timeout over SQS's 12 hours: every receive fails.
        var configuration = PipelineFixture.fastConfiguration
        configuration.visibilityTimeout = 50_000
        configuration.receiveFailureBackoff = RetryBackoff(base: .seconds(1), maximum: .seconds(4))
        let service = ConsumerService(
            queue: fixture.queue, processor: fixture.processor, configuration: configuration, logger: fixture.logger,
            sleep: { delay in
                await recorder.record(delay)
                try await Task.sleep(for: .milliseconds(5))
            })
        let group = ServiceGroup(services: [service], logger: fixture.logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await fixture.eventually("five receives failed") { await recorder.delays.count >= 5 }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(await Array(recorder.delays.prefix(5)) == [.seconds(1), .seconds(2), .seconds(4), .seconds(4), .seconds(4)])
        #expect(fixture.logs.entries.contains { $0.message.description == "Queue receive failed; retrying" })
    }

    @Test func gracefulShutdownFinishesTheMessagesInFlight() async throws {
        let fixture = try PipelineFixture()
        for number in 0..<4 {
            try await fixture.deliver(InviteMessages.large(uid: "big-\(number)@example.com", descriptionSize: 500_000), key: "msg-big-\(number)")
        }
        // Shut down as soon as the first message is received: it and its batch are in flight.
        try await fixture.withRunningConsumer {
            try await fixture.eventually("a message is received") { fixture.logged("Message received") }
        }
        let received = fixture.logs.entries.filter { $0.message.description == "Message received" }.count
        #expect(received >= 1)
        #expect(try fixture.published(.create).count == received)
        #expect(try await fixture.queue.statistics() == SQLiteMessageQueue.Statistics(visible: 4 - received, inFlight: 0, deadLetters: 0))
    }

    @Test func aMessageSlowerThanItsVisibilityTimeoutIsNotDeliveredTwice() async throws {
        let fixture = try PipelineFixture()
        // Parsing two 6 MB descriptions takes longer than the one-second visibility timeout (about
        // 2 s on an idle machine, more under load).
        for number in 0..<2 {
            try await fixture.deliver(InviteMessages.large(uid: "slow-\(number)@example.com", descriptionSize: 6_000_000), key: "msg-slow-\(number)")
        }
        var configuration = PipelineFixture.fastConfiguration
        configuration.visibilityTimeout = 1
        let started = ContinuousClock.now
        try await fixture.withRunningConsumer(configuration) {
            try await fixture.eventually("both are published and deleted") { try await fixture.hasPublished(2, to: .create) }
        }
        #expect(ContinuousClock.now - started > .seconds(1), "processing was not slower than the visibility timeout")
        #expect(fixture.logs.entries.filter { $0.message.description == "Message received" }.count == 2)
        #expect(!fixture.logs.entries.contains { $0.level >= .warning })
    }

    @Test func aMessageArrivingDuringTheLongPollIsProcessed() async throws {
        let fixture = try PipelineFixture()
        var configuration = PipelineFixture.fastConfiguration
        configuration.pollWaitTime = 20
        try await fixture.withRunningConsumer(configuration) {
            try await fixture.eventually("the consumer is polling") { fixture.logged("Consumer started") }
            try await Task.sleep(for: .milliseconds(300))
            try await fixture.deliver(InviteMessages.request(uid: "late@example.com", sequence: 0), key: "msg-late")
            try await fixture.eventually("the invite is published") {
                try await fixture.hasPublished(1, to: .create)
            }
        }
    }
}
