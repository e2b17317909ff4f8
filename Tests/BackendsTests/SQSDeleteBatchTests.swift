import AWS
import Foundation
import Testing

@testable import Backends

/// The consumer's deletes and visibility changes gathered into `DeleteMessageBatch` and
/// `ChangeMessageVisibilityBatch`, against moto verifying every signature.
@Suite("SQS delete and visibility batches")
struct SQSDeleteBatchTests {
    /// Sends `count` messages and receives them all (hidden for a minute).
    static func receivedMessages(_ count: Int, queue: SQSMessageQueue) async throws -> [QueueMessage] {
        for index in 0..<count {
            _ = try await queue.send(body: "notification \(index)")
        }
        var received: [QueueMessage] = []
        for _ in 0..<(count * 2) where received.count < count {
            received += try await queue.receive(maxMessages: 10, visibilityTimeout: 60, waitTime: 0)
        }
        try #require(received.count == count)
        return received
    }

    static func deleteAll(_ receiptHandles: [String], queue: SQSMessageQueue) async -> [String: Result<Void, any Error>] {
        await withTaskGroup(of: (String, Result<Void, any Error>).self) { group in
            for handle in receiptHandles {
                group.addTask { (handle, await Result { try await queue.delete(receiptHandle: handle) }) }
            }
            return await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
    }

    @Test("25 concurrent deletes share DeleteMessageBatch calls and delete every message once")
    func concurrentDeletes() async throws {
        let moto = try MotoServer()
        let queueURL = try await moto.createQueue(MotoServer.uniqueName("cis-delete-batch"))
        let queue = SQSMessageQueue(sqs: try moto.services.sqs(), queueURL: queueURL, batchWindow: .milliseconds(300))
        let messages = try await Self.receivedMessages(25, queue: queue)
        let outcomes = await Self.deleteAll(messages.map(\.receiptHandle), queue: queue)
        #expect(outcomes.count == 25)
        for (handle, outcome) in outcomes {
            #expect((try? outcome.get()) != nil, "delete of \(handle.prefix(16)) failed: \(outcome)")
        }
        #expect(try await moto.messagesLeft(queueURL) == 0)
    }

    @Test("a receipt handle SQS refuses fails only its own delete in the batch")
    func refusedHandleFailsOnlyItsOwn() async throws {
        let moto = try MotoServer()
        let queueURL = try await moto.createQueue(MotoServer.uniqueName("cis-delete-stale"))
        let otherURL = try await moto.createQueue(MotoServer.uniqueName("cis-delete-other"))
        let sqs = try moto.services.sqs()
        let queue = SQSMessageQueue(sqs: sqs, queueURL: queueURL, batchWindow: .milliseconds(500))
        let messages = try await Self.receivedMessages(4, queue: queue)
        // moto accepts every handle a message ever had, so the stale handle is one this queue
        // never gave out (another queue's), which it refuses as SQS refuses a stale one.
        let other = SQSMessageQueue(sqs: sqs, queueURL: otherURL)
        let stale = try #require(try await Self.receivedMessages(1, queue: other).first).receiptHandle
        let outcomes = await Self.deleteAll(messages.map(\.receiptHandle) + [stale], queue: queue)
        for message in messages {
            #expect((try? outcomes[message.receiptHandle]?.get()) != nil, "\(message.body) was not deleted")
        }
        guard case .failure(let error) = outcomes[stale] else {
            Issue.record("the refused handle's delete succeeded")
            return
        }
        let backendError = try #require(error as? BackendError)
        #expect(backendError.kind == .invalidArgument)
        #expect(backendError.operation == "DeleteMessageBatch")
        #expect(backendError.message.contains("ReceiptHandleIsInvalid"))
        #expect(try await moto.messagesLeft(queueURL) == 0)
        #expect(try await moto.messagesLeft(otherURL) == 1, "the other queue's message stays")
    }

    @Test("concurrent visibility changes share ChangeMessageVisibilityBatch calls")
    func visibilityChanges() async throws {
        let moto = try MotoServer()
        let queueURL = try await moto.createQueue(MotoServer.uniqueName("cis-visibility-batch"))
        let queue = SQSMessageQueue(sqs: try moto.services.sqs(), queueURL: queueURL, batchWindow: .milliseconds(300))
        let messages = try await Self.receivedMessages(12, queue: queue)
        let visibleAgain = Set(messages.prefix(7).map(\.messageId))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, message) in messages.enumerated() {
                group.addTask {
                    try await queue.changeVisibility(receiptHandle: message.receiptHandle, visibilityTimeout: index < 7 ? 0 : 600)
                }
            }
            try await group.waitForAll()
        }
        var received: Set<String> = []
        for _ in 0..<5 {
            received.formUnion(try await queue.receive(maxMessages: 10, visibilityTimeout: 60, waitTime: 0).map(\.messageId))
        }
        #expect(received == visibleAgain, "the seven made visible come back, the five hidden for 10 minutes do not")
    }
}
