@testable import Backends
import Foundation
import Notifications
import TestSupport
import Testing

@Suite("SQLiteMessageQueue: retryLater, dead letters, redrive")
struct DeadLetterAndRetryTests {
    @Test("a receive handed back with retryLater does not count toward the limit; one that is not does")
    func retryLaterDoesNotCount() async throws {
        let directory = try TemporaryDirectory()
        let queue = try SQLiteMessageQueue(path: directory.file("queue.sqlite"), maxReceiveCount: 2)
        let id = try await queue.send(body: "m")
        for round in 1...5 {
            let message = try #require(try await queue.receive(maxMessages: 1, visibilityTimeout: 30, waitTime: 0).first)
            #expect(message.messageId == id)
            #expect(message.receiveCount == 1)
            #expect(message.transientFailures == round - 1)
            try await queue.retryLater(receiptHandle: message.receiptHandle, visibilityTimeout: 0)
        }
        // Two receives that are never handed back (crashes): a dead letter at the third.
        for _ in 0..<2 { _ = try await queue.receive(maxMessages: 1, visibilityTimeout: 0, waitTime: 0) }
        #expect(try await queue.receive(maxMessages: 1, visibilityTimeout: 0, waitTime: 0).isEmpty)
        #expect(try await queue.deadLetters().map(\.messageId) == [id])
    }

    @Test("retryLater hides the message for its delay and refuses a stale handle")
    func retryLaterHides() async throws {
        let directory = try TemporaryDirectory()
        let queue = try SQLiteMessageQueue(path: directory.file("queue.sqlite"))
        _ = try await queue.send(body: "m")
        let message = try #require(try await queue.receive(maxMessages: 1, visibilityTimeout: 30, waitTime: 0).first)
        try await queue.retryLater(receiptHandle: message.receiptHandle, visibilityTimeout: 600)
        #expect(try await queue.receive(maxMessages: 1, visibilityTimeout: 30, waitTime: 0).isEmpty)
        let error = await #expect(throws: BackendError.self) {
            try await queue.retryLater(receiptHandle: "\(message.receiptHandle.split(separator: ".")[0]).00", visibilityTimeout: 0)
        }
        #expect(error?.kind == .notFound)
    }

    @Test("a queue file from before transient_failures gets the column and keeps its messages")
    func oldSchemaGetsTheColumn() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("queue.sqlite")
        do {
            let old = try SQLiteDatabase(path: path)
            try old.execute(
                """
                CREATE TABLE messages (seq INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL UNIQUE, body TEXT NOT NULL,
                  sent_at INTEGER NOT NULL, visible_at INTEGER NOT NULL, receive_count INTEGER NOT NULL DEFAULT 0,
                  receipt_handle TEXT, first_received_at INTEGER);
                INSERT INTO messages (message_id, body, sent_at, visible_at) VALUES ('old-1', 'old body', 0, 0);
                """)
        }
        let queue = try SQLiteMessageQueue(path: path)
        let message = try #require(try await queue.receive(maxMessages: 1, visibilityTimeout: 30, waitTime: 0).first)
        #expect(message.messageId == "old-1")
        try await queue.retryLater(receiptHandle: message.receiptHandle, visibilityTimeout: 0)
        #expect(try await queue.receive(maxMessages: 1, visibilityTimeout: 30, waitTime: 0).first?.transientFailures == 1)
    }

    @Test("dead letters a page at a time: every one once, in order, many within one millisecond")
    func deadLettersInPages() async throws {
        let directory = try TemporaryDirectory()
        let queue = try SQLiteMessageQueue(path: directory.file("queue.sqlite"), maxReceiveCount: 1)
        for index in 0..<23 { _ = try await queue.send(body: "m\(index)") }
        while try await !queue.receive(maxMessages: 10, visibilityTimeout: 0, waitTime: 0).isEmpty {}
        let all = try await queue.deadLetters()
        #expect(all.count == 23)
        var paged: [SQLiteMessageQueue.DeadLetter] = []
        var pageSizes: [Int] = []
        var cursor: SQLiteMessageQueue.DeadLetterCursor?
        repeat {
            let (letters, next) = try await queue.deadLetters(after: cursor, pageSize: 5)
            paged += letters
            pageSizes.append(letters.count)
            cursor = next
        } while cursor != nil && pageSizes.count < 10
        #expect(pageSizes == [5, 5, 5, 5, 3])
        #expect(paged == all)
        // A page that ends exactly at the last one says so only on the next (empty) read.
        let (twentyThree, next) = try await queue.deadLetters(after: nil, pageSize: 23)
        #expect(twentyThree == all)
        let (rest, end) = try await queue.deadLetters(after: next, pageSize: 23)
        #expect(rest.isEmpty && end == nil)
    }

    @Test("redrive moves one dead letter, or all, back with no receives; show finds one by id")
    func redrive() async throws {
        let directory = try TemporaryDirectory()
        let queue = try SQLiteMessageQueue(path: directory.file("queue.sqlite"), maxReceiveCount: 1)
        let first = try await queue.send(body: "first")
        let second = try await queue.send(body: "second")
        _ = try await queue.receive(maxMessages: 10, visibilityTimeout: 0, waitTime: 0)
        #expect(try await queue.receive(maxMessages: 10, visibilityTimeout: 0, waitTime: 0).isEmpty)
        #expect(Set(try await queue.deadLetters().map(\.messageId)) == [first, second])
        #expect(try await queue.deadLetter(messageId: second)?.body == "second")
        #expect(try await queue.deadLetter(messageId: "nope") == nil)

        #expect(try await queue.redrive(messageId: second) == [second])
        #expect(try await queue.deadLetters().map(\.messageId) == [first])
        let back = try await queue.receive(maxMessages: 10, visibilityTimeout: 30, waitTime: 0)
        #expect(back.map(\.messageId) == [second])
        #expect(back.first?.receiveCount == 1)
        #expect(try await queue.redrive(messageId: "nope") == [])
        #expect(try await queue.redrive(messageId: nil) == [first])
        #expect(try await queue.statistics() == .init(visible: 1, inFlight: 1, deadLetters: 0))
    }
}

@Suite("Deduplication ids")
struct DeduplicationIdTests {
    @Test("an id SNS takes stays; a longer one, or one with a space or a non-ASCII letter, becomes its SHA-256")
    func fitting() {
        #expect(DeduplicationId.fitting("msg-1/uid@example.com/0") == "msg-1/uid@example.com/0")
        let outlookUID = "040000008200E00074C5B7101A82E00800000000" + String(repeating: "A1B2C3D4", count: 11)
        let long = "0123456789abcdefghijklmnopq/\(outlookUID)/3"
        #expect(long.count > 128)
        let hashed = DeduplicationId.fitting(long)
        #expect(hashed.count == 71)
        #expect(hashed.hasPrefix("sha256-"))
        #expect(hashed == DeduplicationId.fitting(long))
        #expect(hashed != DeduplicationId.fitting(long + "x"))
        #expect(DeduplicationId.fitting(String(repeating: "a", count: 128)) == String(repeating: "a", count: 128))
        #expect(DeduplicationId.fitting(String(repeating: "a", count: 129)).hasPrefix("sha256-"))
        #expect(DeduplicationId.fitting("a b").hasPrefix("sha256-"))
        #expect(DeduplicationId.fitting("réunion").hasPrefix("sha256-"))
        #expect(TopicMessage(defaultMessage: "{}", attributes: [:], deduplicationId: long).deduplicationId == hashed)
    }
}
