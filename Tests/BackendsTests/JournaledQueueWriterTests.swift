@testable import Backends
import BlockingWork
import Foundation
import Logging
import TestSupport
import Testing

/// The writer that brings the queue's table up to date with journaled notifications: the
/// committer hands it each batch before answering the batch's puts, so the hand-over must
/// never wait for the writer's own transaction.
@Suite("Journaled queue writer")
struct JournaledQueueWriterTests {
    static func notification(_ index: Int) -> JournaledNotification {
        JournaledNotification(messageId: "m\(index)", body: #"{"key":"inbound/m\#(index)"}"#)
    }

    @Test("handing over notifications does not wait while the writer's transaction waits for another process's write lock")
    func handOverWhileTheTableIsLocked() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("queue.sqlite")
        let queue = try SQLiteMessageQueue(path: path)
        // The drain's transaction waits out the blocker for as long as the test runs.
        let writer = try JournaledQueueWriter(
            queuePath: path, maxReceiveCount: 5, onApplied: { queue.noteSentElsewhere() }, logger: Logger(label: "test"),
            retryDelay: 3600, busyTimeoutMilliseconds: 600_000)
        let blocker = try SQLiteDatabase(path: path)
        try blocker.execute("BEGIN EXCLUSIVE")
        writer.enqueue([Self.notification(0)], epoch: 1)

        // Hand-overs spread over a second while the drain waits for the lock: before the
        // pending list had its own lock, the first of them waited for the drain's transaction.
        let handOvers = 20
        let (returned, _) = await FirstOutcome.of(
            {
                for index in 1...handOvers {
                    writer.enqueue([Self.notification(index)], epoch: 1)
                    try? await Task.sleep(for: .milliseconds(50))
                }
                return true
            }, timeout: .seconds(30), otherwise: { false })
        #expect(returned, "enqueue waited for the writer's transaction")
        #expect(writer.pendingCount == handOvers + 1)

        try blocker.execute("ROLLBACK")
        guard returned else { return }
        try writer.makeDurable()
        #expect(writer.pendingCount == 0)
        var received: [QueueMessage] = []
        while case let batch = try await queue.receive(maxMessages: 10, visibilityTimeout: 600, waitTime: 0), !batch.isEmpty {
            received += batch
        }
        #expect(Set(received.map(\.body)) == Set((0...handOvers).map { Self.notification($0).body }))
    }

    @Test("a failed transaction puts its notifications back ahead of those handed over since")
    func failedTransactionKeepsOrder() throws {
        let pending = PendingNotifications()
        pending.append([Self.notification(0), Self.notification(1)], epoch: 1)
        let taken = pending.take()
        #expect(pending.count == 2)
        pending.append([Self.notification(2)], epoch: 2)
        #expect(pending.count == 3)
        pending.putBack(taken)
        let again = pending.take()
        #expect(again.map(\.notifications) == [[Self.notification(0), Self.notification(1)], [Self.notification(2)]])
        #expect(again.map(\.epoch) == [1, 2])
        pending.taken(applied: again)
        #expect(pending.count == 0)
        #expect(pending.take().isEmpty)
    }
}
