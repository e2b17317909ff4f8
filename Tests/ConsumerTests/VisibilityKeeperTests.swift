import Backends
import Logging
import TestSupport
import Testing

@testable import Consumer

/// The one loop that keeps every message in processing invisible: which messages are due.
@Suite("Visibility keeper")
struct VisibilityKeeperTests {
    static func message(_ handle: String) -> QueueMessage {
        QueueMessage(messageId: handle, body: "{}", receiptHandle: handle, receiveCount: 1)
    }

    @Test func aMessageIsDueOnceAnIntervalPassedSinceItsVisibilityWasSet() {
        let keeper = VisibilityKeeper(interval: .seconds(10))
        let logger = Logger(label: "test")
        let start = ContinuousClock.now
        let first = keeper.begin(Self.message("first"), logger: logger)
        _ = keeper.begin(Self.message("second"), logger: logger)
        #expect(keeper.due(at: start + .seconds(5)).isEmpty)
        let due = keeper.due(at: start + .seconds(11))
        #expect(Set(due.map(\.receiptHandle)) == ["first", "second"])
        // Just extended: not due again until another interval passed.
        #expect(keeper.due(at: start + .seconds(15)).isEmpty)
        keeper.end(first)
        #expect(keeper.due(at: start + .seconds(21)).map(\.receiptHandle) == ["second"])
    }

    @Test func theLoopExtendsAMessageBeforeItsVisibilityLapsesAndStopsWhenCancelled() async throws {
        let directory = try TemporaryDirectory(prefix: "cis-visibility")
        let queue = try SQLiteMessageQueue(path: directory.path + "/queue.sqlite")
        _ = try await queue.send(body: "{}")
        let received = try await queue.receive(maxMessages: 1, visibilityTimeout: 1, waitTime: 0)
        let message = try #require(received.first)
        let keeper = VisibilityKeeper(interval: .milliseconds(300))
        _ = keeper.begin(message, logger: Logger(label: "test"))
        let loop = Task { await keeper.run(queue: queue, visibilityTimeout: 1) }
        // Three visibility timeouts later the message is still invisible: it was extended.
        try await Task.sleep(for: .seconds(3))
        #expect(try await queue.receive(maxMessages: 1, visibilityTimeout: 1, waitTime: 0).isEmpty)
        loop.cancel()
        await loop.value
    }
}
