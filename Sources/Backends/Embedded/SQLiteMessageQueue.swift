import BlockingWork
import Foundation

/// The embedded queue with SQS semantics, in one SQLite database (WAL, synchronous=FULL).
///
/// Every call runs in the queue's batcher on the blocking pool, never on the caller's
/// thread. With `groupCommit`, the calls that arrive while a transaction commits share the
/// next transaction (one WAL fsync); without it, each call is its own transaction. The schema is documented
/// on `QueueTables`. Limits follow SQS: 1...10 messages per receive, visibility
/// 0...43200 s, wait 0...20 s, bodies up to 256 KiB.
public final class SQLiteMessageQueue: MessageQueue {
    public let path: String
    public let maxReceiveCount: Int
    private let batcher: Batcher<QueueBatch>
    /// Transactions committed so far (tests check that concurrent sends share them).
    let transactions: LockedCounter

    public static let maximumBodySize = 262_144
    public static let maximumVisibilityTimeout = 43_200
    public static let maximumWaitTime = 20

    /// Receives before a message moves to the dead letters (SQS: the redrive policy's `maxReceiveCount`).
    public static let defaultMaxReceiveCount = 5
    public static let maxReceiveCountRange = 1...1000

    public init(path: String, maxReceiveCount: Int = SQLiteMessageQueue.defaultMaxReceiveCount, groupCommit: Bool = true) throws {
        guard maxReceiveCount >= 1 else {
            throw BackendError(.invalidArgument, backend: "sqlite-queue", operation: "open", message: "maxReceiveCount must be at least 1")
        }
        self.path = path
        self.maxReceiveCount = maxReceiveCount
        let transactions = LockedCounter()
        self.transactions = transactions
        let batch = QueueBatch(path: path, maxReceiveCount: maxReceiveCount, transactions: transactions)
        if let error = batch.failedToOpen { throw error }
        self.batcher = Batcher(maximumBatchSize: groupCommit ? 512 : 1, handler: batch)
    }

    public func send(body: String) async throws -> String {
        guard body.utf8.count <= Self.maximumBodySize else {
            throw self.invalid("send", "body of \(body.utf8.count) bytes is over \(Self.maximumBodySize)")
        }
        return try await withCheckedThrowingContinuation { continuation in
            self.batcher.submit(.send(body: body, continuation))
        }
    }

    /// Messages were inserted on another connection (the object store's `JournaledQueueWriter`):
    /// waiting receivers look again.
    func noteSentElsewhere() {
        self.batcher.submit(.sentElsewhere)
    }

    public func receive(maxMessages: Int, visibilityTimeout: Int, waitTime: Int) async throws -> [QueueMessage] {
        guard (1...10).contains(maxMessages) else { throw self.invalid("receive", "maxMessages \(maxMessages) is not in 1...10") }
        guard (0...Self.maximumVisibilityTimeout).contains(visibilityTimeout) else {
            throw self.invalid("receive", "visibilityTimeout \(visibilityTimeout) is not in 0...\(Self.maximumVisibilityTimeout)")
        }
        guard (0...Self.maximumWaitTime).contains(waitTime) else {
            throw self.invalid("receive", "waitTime \(waitTime) is not in 0...\(Self.maximumWaitTime)")
        }
        try Task.checkCancellation()
        let box = ReceiveRequestBox()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let request = ReceiveRequest(
                    maxMessages: maxMessages, visibilityTimeout: visibilityTimeout,
                    deadline: QueueBatch.now() + waitTime * 1000, continuation: continuation)
                if box.set(request) { request.cancel() }
                self.batcher.submit(.receive(request))
            }
        } onCancel: {
            box.cancel()
            self.batcher.wake()
        }
    }

    public func delete(receiptHandle: String) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            self.batcher.submit(.delete(receiptHandle: receiptHandle, continuation))
        }
    }

    public func changeVisibility(receiptHandle: String, visibilityTimeout: Int) async throws {
        guard (0...Self.maximumVisibilityTimeout).contains(visibilityTimeout) else {
            throw self.invalid("changeVisibility", "visibilityTimeout \(visibilityTimeout) is not in 0...\(Self.maximumVisibilityTimeout)")
        }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            self.batcher.submit(.changeVisibility(receiptHandle: receiptHandle, visibilityTimeout: visibilityTimeout, continuation))
        }
    }

    /// Hidden for `visibilityTimeout`, and the receive that got the message does not count
    /// toward `maxReceiveCount` (it is counted in the message's `transientFailures` instead).
    public func retryLater(receiptHandle: String, visibilityTimeout: Int) async throws {
        guard (0...Self.maximumVisibilityTimeout).contains(visibilityTimeout) else {
            throw self.invalid("retryLater", "visibilityTimeout \(visibilityTimeout) is not in 0...\(Self.maximumVisibilityTimeout)")
        }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            self.batcher.submit(.retryLater(receiptHandle: receiptHandle, visibilityTimeout: visibilityTimeout, continuation))
        }
    }

    /// Message counts, as SQS's ApproximateNumberOfMessages(NotVisible) and the dead-letter queue's size.
    public struct Statistics: Sendable, Equatable {
        public var visible: Int
        public var inFlight: Int
        public var deadLetters: Int

        public init(visible: Int, inFlight: Int, deadLetters: Int) {
            self.visible = visible
            self.inFlight = inFlight
            self.deadLetters = deadLetters
        }
    }

    public func statistics() async throws -> Statistics {
        try await self.inspect { tables, now in try tables.statistics(now: now) }
    }

    /// Messages in the queue, visible or in flight (not the dead letters).
    public var approximateCount: Int {
        get async throws {
            let statistics = try await self.statistics()
            return statistics.visible + statistics.inFlight
        }
    }

    /// How long the oldest message has waited in the queue (visible or in flight); nil when it is empty.
    public func oldestMessageAge() async throws -> Duration? {
        try await self.inspect { tables, now in try tables.oldestSentAt().map { Duration.milliseconds(max(0, now - $0)) } }
    }

    /// A message moved out of the queue after `maxReceiveCount` receives.
    public struct DeadLetter: Sendable, Equatable {
        public var messageId: String
        public var body: String
        public var receiveCount: Int
        public var deadLetteredAt: Date
    }

    public func deadLetters() async throws -> [DeadLetter] {
        try await self.inspect { tables, _ in try tables.deadLetters() }
    }

    /// Where a page of dead letters ended (oldest first).
    public struct DeadLetterCursor: Sendable, Equatable {
        var deadLetteredAt: Int
        var seq: Int
    }

    /// Dead letters a page at a time, oldest first, so that listing them holds at most `pageSize` in memory.
    public func deadLetters(after cursor: DeadLetterCursor?, pageSize: Int) async throws -> ([DeadLetter], next: DeadLetterCursor?) {
        try await self.inspect { tables, _ in try tables.deadLetters(after: cursor, limit: pageSize) }
    }

    /// The `limit` newest dead letters, newest first.
    public func newestDeadLetters(limit: Int) async throws -> [DeadLetter] {
        try await self.inspect { tables, _ in try tables.newestDeadLetters(limit: limit) }
    }

    /// The dead letter with this message id, if any.
    public func deadLetter(messageId: String) async throws -> DeadLetter? {
        try await self.inspect { tables, _ in try tables.deadLetters(messageId: messageId).first }
    }

    /// Moves the dead letter with `messageId` (nil: every one) back to the queue, visible at
    /// once with no receives counted; returns the message ids moved.
    public func redrive(messageId: String?) async throws -> [String] {
        try await self.inspect { tables, now in try tables.redrive(messageId: messageId, now: now) }
    }

    private func inspect<Result: Sendable>(_ body: @escaping @Sendable (QueueTables, Int) throws -> Result) async throws -> Result {
        let result = try await withCheckedThrowingContinuation { continuation in
            self.batcher.submit(.inspect({ tables, now in try body(tables, now) }, continuation))
        }
        return result as! Result
    }

    private func invalid(_ operation: String, _ message: String) -> BackendError {
        BackendError(.invalidArgument, backend: "sqlite-queue", operation: operation, message: message)
    }
}

/// Hands a receive's cancellation to its request, whichever of the two comes first.
private final class ReceiveRequestBox: @unchecked Sendable {
    // @unchecked: both properties are guarded by `lock`.
    private let lock = NSLock()
    private var request: ReceiveRequest?
    private var cancelled = false

    /// Stores the request; returns whether cancellation came first.
    func set(_ request: ReceiveRequest) -> Bool {
        self.lock.lock()
        defer { self.lock.unlock() }
        self.request = request
        return self.cancelled
    }

    func cancel() {
        self.lock.lock()
        self.cancelled = true
        let request = self.request
        self.lock.unlock()
        request?.cancel()
    }
}
