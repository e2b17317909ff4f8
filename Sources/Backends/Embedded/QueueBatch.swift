import BlockingWork
import FileIO
import Foundation

/// Runs `SQLiteMessageQueue` operations in its batcher: every batch in one
/// transaction (one fsync of the WAL at COMMIT), each operation in its own savepoint so
/// that one failing operation does not undo the others. Callers are answered after
/// COMMIT. Long-polling receivers that found nothing wait here until a send commits,
/// a hidden message becomes visible, their wait time ends, or their task is cancelled.
final class QueueBatch: BatchHandler {
    enum Job: Sendable {
        case send(body: String, CheckedContinuation<String, any Error>)
        case receive(ReceiveRequest)
        case delete(receiptHandle: String, CheckedContinuation<Void, any Error>)
        case changeVisibility(receiptHandle: String, visibilityTimeout: Int, CheckedContinuation<Void, any Error>)
        case retryLater(receiptHandle: String, visibilityTimeout: Int, CheckedContinuation<Void, any Error>)
        /// Another connection inserted messages: waiting receivers look again.
        case sentElsewhere
        /// A read or maintenance step run with the tables and the current time.
        case inspect(@Sendable (QueueTables, Int) throws -> any Sendable, CheckedContinuation<any Sendable, any Error>)
    }

    private let path: String
    private var tables: QueueTables?
    private let openError: BackendError?
    private let identity: FileIdentity?
    private var waitingReceivers: [ReceiveRequest] = []
    private var nextVisibleAt: Int?

    /// Opens (creating) the database; an error is kept and reported by `openError`.
    private let transactions: LockedCounter

    init(path: String, maxReceiveCount: Int, transactions: LockedCounter) {
        self.path = path
        self.transactions = transactions
        do {
            let database = try SQLiteDatabase(path: path)
            try database.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;")
            self.tables = try QueueTables(database: database, maxReceiveCount: maxReceiveCount)
            self.identity = FileIdentity.of(path: path)
            self.openError = nil
        } catch {
            self.tables = nil
            self.identity = nil
            self.openError = BackendError(.unavailable, backend: "sqlite-queue", operation: "open", message: "\(error)")
        }
    }

    var failedToOpen: BackendError? { self.openError }

    func run(_ jobs: [Job]) {
        let now = Self.now()
        var answers: [Answer] = []
        var madeVisible = false
        let jobs = jobs.filter { job in
            guard case .sentElsewhere = job else { return true }
            madeVisible = true
            return false
        }
        var stillWaiting: [ReceiveRequest] = []

        // Receivers whose wait ended or that were cancelled are answered before the transaction.
        for request in self.waitingReceivers {
            if request.isCancelled {
                request.continuation.resume(throwing: CancellationError())
            } else if request.deadline <= now {
                request.continuation.resume(returning: [])
            } else {
                stillWaiting.append(request)
            }
        }
        self.waitingReceivers = []
        if jobs.isEmpty && stillWaiting.isEmpty { return }

        guard let tables = self.tables, self.databaseFileIsOurs() else {
            let error = self.openError ?? self.replacedError()
            for job in jobs { Self.fail(job, with: error) }
            for request in stillWaiting { request.continuation.resume(throwing: error) }
            return
        }
        let database = tables.database
        do {
            try database.execute("BEGIN IMMEDIATE")
        } catch {
            let error = Self.backendError(error, operation: "begin")
            for job in jobs { Self.fail(job, with: error) }
            for request in stillWaiting { request.continuation.resume(throwing: error) }
            return
        }
        var parkedNow: [ReceiveRequest] = []
        for job in jobs {
            switch job {
            case .send, .changeVisibility, .retryLater: madeVisible = true
            default: break
            }
            answers.append(self.perform(job, tables: tables, now: now, parked: &parkedNow))
        }
        let retryWaiting = madeVisible || (self.nextVisibleAt.map { $0 <= now } ?? false)
        for request in stillWaiting {
            if retryWaiting {
                answers.append(self.perform(.receive(request), tables: tables, now: now, parked: &parkedNow))
            } else {
                parkedNow.append(request)
            }
        }
        do {
            if !parkedNow.isEmpty {
                self.nextVisibleAt = try tables.nextVisibleAt(after: now)
            }
            try database.execute("COMMIT")
            _ = self.transactions.next()
        } catch {
            try? database.execute("ROLLBACK")
            let failure = Self.backendError(error, operation: "commit")
            for answer in answers { answer.fail(failure) }
            for request in parkedNow { request.continuation.resume(throwing: failure) }
            return
        }
        for answer in answers { answer.succeed() }
        self.waitingReceivers = parkedNow
    }

    func nextWakeUp() -> Date? {
        guard !self.waitingReceivers.isEmpty else { return nil }
        var earliest = self.waitingReceivers.map(\.deadline).min()!
        if let nextVisibleAt = self.nextVisibleAt { earliest = min(earliest, nextVisibleAt) }
        return Date(timeIntervalSince1970: Double(earliest) / 1000)
    }

    func refuse(_ jobs: [Job]) {
        let error = BackendError(.unavailable, backend: "sqlite-queue", operation: "run", message: "queue closed")
        for job in jobs { Self.fail(job, with: error) }
        for request in self.waitingReceivers { request.continuation.resume(throwing: error) }
        self.waitingReceivers = []
    }

    func shutDown() {
        self.tables = nil
    }

    /// One job inside its savepoint; its answer is given after COMMIT.
    private func perform(_ job: Job, tables: QueueTables, now: Int, parked: inout [ReceiveRequest]) -> Answer {
        let database = tables.database
        do {
            try database.execute("SAVEPOINT job")
            let answer: Answer
            switch job {
            case .send(let body, let continuation):
                let messageId = try tables.send(body: body, now: now)
                answer = Answer(succeed: { continuation.resume(returning: messageId) }, fail: { continuation.resume(throwing: $0) })
            case .receive(let request):
                let messages = try tables.receive(
                    maxMessages: request.maxMessages, visibilityTimeout: request.visibilityTimeout, now: now)
                if messages.isEmpty && request.isCancelled {
                    answer = Answer(
                        succeed: { request.continuation.resume(throwing: CancellationError()) },
                        fail: { request.continuation.resume(throwing: $0) })
                } else if messages.isEmpty && request.deadline > now {
                    parked.append(request)
                    answer = Answer(succeed: {}, fail: { _ in })
                } else {
                    answer = Answer(
                        succeed: { request.continuation.resume(returning: messages) },
                        fail: { request.continuation.resume(throwing: $0) })
                }
            case .delete(let receiptHandle, let continuation):
                if try tables.delete(receiptHandle: receiptHandle) {
                    answer = Answer(succeed: { continuation.resume() }, fail: { continuation.resume(throwing: $0) })
                } else {
                    answer = Answer.failing(job, with: Self.unknownHandle(receiptHandle, operation: "delete"))
                }
            case .changeVisibility(let receiptHandle, let visibilityTimeout, let continuation):
                if try tables.changeVisibility(receiptHandle: receiptHandle, visibleAt: now + visibilityTimeout * 1000) {
                    answer = Answer(succeed: { continuation.resume() }, fail: { continuation.resume(throwing: $0) })
                } else {
                    answer = Answer.failing(job, with: Self.unknownHandle(receiptHandle, operation: "changeVisibility"))
                }
            case .retryLater(let receiptHandle, let visibilityTimeout, let continuation):
                if try tables.retryLater(receiptHandle: receiptHandle, visibleAt: now + visibilityTimeout * 1000) {
                    answer = Answer(succeed: { continuation.resume() }, fail: { continuation.resume(throwing: $0) })
                } else {
                    answer = Answer.failing(job, with: Self.unknownHandle(receiptHandle, operation: "retryLater"))
                }
            case .inspect(let body, let continuation):
                let result = try body(tables, now)
                answer = Answer(succeed: { continuation.resume(returning: result) }, fail: { continuation.resume(throwing: $0) })
            case .sentElsewhere:
                answer = Answer(succeed: {}, fail: { _ in })
            }
            try database.execute("RELEASE job")
            return answer
        } catch {
            try? database.execute("ROLLBACK TO job")
            try? database.execute("RELEASE job")
            return Answer.failing(job, with: Self.backendError(error, operation: "run"))
        }
    }

    /// The path still names the database this connection opened: a removed or replaced
    /// file would otherwise take writes that no one will ever read.
    private func databaseFileIsOurs() -> Bool {
        FileIdentity.of(path: self.path) == self.identity
    }

    private func replacedError() -> BackendError {
        BackendError(.unavailable, backend: "sqlite-queue", operation: "run", message: "\(self.path) was removed or replaced")
    }

    private static func unknownHandle(_ receiptHandle: String, operation: String) -> BackendError {
        BackendError(
            .notFound, backend: "sqlite-queue", operation: operation,
            message: "receipt handle \(receiptHandle.debugDescription) is unknown or no longer the message's latest")
    }

    static func backendError(_ error: any Error, operation: String) -> BackendError {
        if let error = error as? BackendError { return error }
        return BackendError(.unavailable, backend: "sqlite-queue", operation: operation, message: "\(error)")
    }

    static func now() -> Int {
        Int((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }

    /// Answers a job with an error.
    private static func fail(_ job: Job, with error: BackendError) {
        switch job {
        case .send(_, let continuation): continuation.resume(throwing: error)
        case .receive(let request): request.continuation.resume(throwing: error)
        case .delete(_, let continuation): continuation.resume(throwing: error)
        case .changeVisibility(_, _, let continuation): continuation.resume(throwing: error)
        case .retryLater(_, _, let continuation): continuation.resume(throwing: error)
        case .inspect(_, let continuation): continuation.resume(throwing: error)
        case .sentElsewhere: break
        }
    }

    /// What to tell one caller once the transaction's fate is known.
    private struct Answer {
        var succeed: () -> Void
        var fail: (BackendError) -> Void

        /// A job that failed on its own: it gets its error whether or not the transaction commits.
        static func failing(_ job: Job, with error: BackendError) -> Answer {
            Answer(succeed: { QueueBatch.fail(job, with: error) }, fail: { _ in QueueBatch.fail(job, with: error) })
        }
    }
}

/// A receive call, possibly waiting (long polling).
final class ReceiveRequest: @unchecked Sendable {
    // @unchecked: the only mutable state, `cancelled`, is guarded by `lock`.
    let maxMessages: Int
    let visibilityTimeout: Int
    /// Milliseconds since the epoch.
    let deadline: Int
    let continuation: CheckedContinuation<[QueueMessage], any Error>
    private let lock = NSLock()
    private var cancelled = false

    init(maxMessages: Int, visibilityTimeout: Int, deadline: Int, continuation: CheckedContinuation<[QueueMessage], any Error>) {
        self.maxMessages = maxMessages
        self.visibilityTimeout = visibilityTimeout
        self.deadline = deadline
        self.continuation = continuation
    }

    var isCancelled: Bool {
        self.lock.lock()
        defer { self.lock.unlock() }
        return self.cancelled
    }

    func cancel() {
        self.lock.lock()
        self.cancelled = true
        self.lock.unlock()
    }
}
