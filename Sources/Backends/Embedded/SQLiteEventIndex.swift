import BlockingWork
import FileIO
import Foundation
import Notifications

/// The embedded event index, `<data-dir>/events.sqlite` (times in milliseconds since the Unix epoch):
///
///     events(uid TEXT PRIMARY KEY, created_at INTEGER,   -- the iCalendar UIDs routed to `create`
///            creating_domain TEXT)                      -- the authenticated sender domain that created it
///     published(request_id TEXT, uid TEXT, sequence INTEGER, route TEXT, message_id TEXT,
///               published_at INTEGER, PRIMARY KEY (request_id, uid, sequence, route))
///
/// `published` is the consumer's `PublishLedger`. The index's directory is created when missing;
/// a data directory from before `creating_domain` gets the column (NULL for the UIDs it holds).
/// Writes run in a group commit (`EventIndexBatch`): the writes that arrive while a transaction
/// commits share the next one, so the messages a consumer has in flight share one WAL fsync
/// per step; each write returns only after its transaction committed. Reads run on a second
/// connection, one at a time, and see every committed write without waiting for the
/// writer's fsync.
public final class SQLiteEventIndex: EventIndex, PublishLedger {
    public let path: String
    private let batcher: Batcher<EventIndexBatch>
    private let reader: BlockingSerialQueue
    private let readerStatements: ReaderStatements
    /// Transactions committed so far (tests check that concurrent calls share them).
    let transactions: LockedCounter

    public init(path: String) throws {
        self.path = path
        let directory = FileSystem.parent(of: path)
        do {
            for parent in try FileSystem.makeDirectories(directory) { try FileSystem.syncDirectory(parent) }
        } catch {
            throw BackendError(
                .unavailable, backend: "sqlite-events", operation: "open", message: "cannot create the directory \(directory): \(error)")
        }
        let database: SQLiteDatabase
        do {
            database = try SQLiteDatabase(path: path)
            try database.execute(
                """
                PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
                CREATE TABLE IF NOT EXISTS events (uid TEXT PRIMARY KEY, created_at INTEGER NOT NULL);
                CREATE TABLE IF NOT EXISTS published (
                  request_id TEXT NOT NULL, uid TEXT NOT NULL, sequence INTEGER NOT NULL, route TEXT NOT NULL,
                  message_id TEXT NOT NULL, published_at INTEGER NOT NULL,
                  PRIMARY KEY (request_id, uid, sequence, route));
                """)
            try Self.addCreatingDomainColumn(database)
        } catch {
            throw BackendError(.unavailable, backend: "sqlite-events", operation: "open", message: "\(error)")
        }
        let transactions = LockedCounter()
        self.transactions = transactions
        self.batcher = Batcher(maximumBatchSize: 512, handler: EventIndexBatch(database: database, transactions: transactions))
        do {
            self.readerStatements = ReaderStatements(statements: EventIndexBatch.Statements(database: try SQLiteDatabase(path: path)))
        } catch {
            throw BackendError(.unavailable, backend: "sqlite-events", operation: "open", message: "\(error)")
        }
        self.reader = BlockingSerialQueue()
    }

    public func isKnown(uid: String) async throws -> Bool? {
        try await self.read("isKnown") { statements in
            let statement = try statements.statement("SELECT 1 FROM events WHERE uid = ?1").bind([.text(uid)])
            defer { statement.reset() }
            return try statement.step()
        }
    }

    public func recordCreated(uid: String, creatingDomain: String?) async throws {
        let now = Self.now()
        try await self.run("recordCreated") { statements in
            try statements.statement("INSERT OR IGNORE INTO events (uid, created_at, creating_domain) VALUES (?1, ?2, ?3)")
                .run([.text(uid), .integer(now), creatingDomain.map { .text($0) } ?? .null])
        }
    }

    public func creatingDomain(uid: String) async throws -> String? {
        try await self.read("creatingDomain") { statements in
            let statement = try statements.statement("SELECT creating_domain FROM events WHERE uid = ?1")
            try statement.bind([.text(uid)])
            guard try statement.step() else { return nil }
            defer { statement.reset() }
            return statement.text(0)
        }
    }

    /// The migration of an index created before the sender policy: adds `creating_domain`.
    private static func addCreatingDomainColumn(_ database: SQLiteDatabase) throws {
        let columns = try database.prepare("PRAGMA table_info(events)")
        while try columns.step() {
            if columns.text(1) == "creating_domain" { return }
        }
        try database.execute("ALTER TABLE events ADD COLUMN creating_domain TEXT")
    }

    public func publishedMessageId(for key: PublishKey) async throws -> String? {
        try await self.read("publishedMessageId") { statements in
            let statement = try statements.statement(
                "SELECT message_id FROM published WHERE request_id = ?1 AND uid = ?2 AND sequence = ?3 AND route = ?4")
            try statement.bind([.text(key.requestId), .text(key.uid), .integer(key.sequence), .text(key.route.rawValue)])
            guard try statement.step() else { return nil }
            defer { statement.reset() }
            return statement.text(0)
        }
    }

    public func recordPublished(_ key: PublishKey, messageId: String) async throws {
        let now = Self.now()
        try await self.run("recordPublished") { statements in
            try statements.statement(
                """
                INSERT OR IGNORE INTO published (request_id, uid, sequence, route, message_id, published_at)
                  VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                """
            ).run([
                .text(key.requestId), .text(key.uid), .integer(key.sequence), .text(key.route.rawValue), .text(messageId),
                .integer(now),
            ])
        }
    }

    /// Runs `body` in the next group-committed transaction; returns its result after COMMIT.
    private func run<Result: Sendable>(
        _ operation: String, _ body: @escaping @Sendable (EventIndexBatch.Statements) throws -> Result
    ) async throws -> Result {
        let answer = try await withCheckedThrowingContinuation { continuation in
            self.batcher.submit(EventIndexBatch.Job(operation: operation, body: { try body($0) }, continuation: continuation))
        }
        return answer as! Result
    }

    /// Runs `body` on the reader connection.
    private func read<Result: Sendable>(
        _ operation: String, _ body: @escaping @Sendable (EventIndexBatch.Statements) throws -> Result
    ) async throws -> Result {
        let readerStatements = self.readerStatements
        return try await self.reader.run {
            do {
                return try body(readerStatements.statements)
            } catch {
                throw BackendError(.unavailable, backend: "sqlite-events", operation: operation, message: "\(error)")
            }
        }
    }

    /// The reader connection's statements, used only inside `reader.run`.
    private final class ReaderStatements: @unchecked Sendable {
        // @unchecked: `statements` is touched only inside `reader.run`, one closure at a time.
        let statements: EventIndexBatch.Statements
        init(statements: EventIndexBatch.Statements) { self.statements = statements }
    }

    private static func now() -> Int {
        Int(Date().timeIntervalSince1970 * 1000)
    }
}

/// Runs `SQLiteEventIndex` calls in its batcher: every batch in one transaction (one WAL
/// fsync at COMMIT), each call in its own savepoint so that one failing call does not undo
/// the others, with its prepared statements kept. Callers are answered after COMMIT.
final class EventIndexBatch: BatchHandler {
    struct Job: Sendable {
        var operation: String
        var body: @Sendable (Statements) throws -> any Sendable
        var continuation: CheckedContinuation<any Sendable, any Error>
    }

    /// The connection's prepared statements, by SQL text.
    final class Statements {
        fileprivate let database: SQLiteDatabase
        private var prepared: [String: SQLiteDatabase.Statement] = [:]

        init(database: SQLiteDatabase) {
            self.database = database
        }

        func statement(_ sql: String) throws -> SQLiteDatabase.Statement {
            if let statement = self.prepared[sql] { return statement }
            let statement = try self.database.prepare(sql)
            self.prepared[sql] = statement
            return statement
        }
    }

    private var statements: Statements?
    private let transactions: LockedCounter

    init(database: SQLiteDatabase, transactions: LockedCounter) {
        self.statements = Statements(database: database)
        self.transactions = transactions
    }

    func run(_ jobs: [Job]) {
        guard let statements = self.statements else {
            for job in jobs { job.continuation.resume(throwing: Self.error("run", "event index closed")) }
            return
        }
        let database = statements.database
        do {
            try database.execute("BEGIN IMMEDIATE")
        } catch {
            for job in jobs { job.continuation.resume(throwing: Self.error("begin", "\(error)")) }
            return
        }
        var results: [Result<any Sendable, BackendError>] = []
        results.reserveCapacity(jobs.count)
        for job in jobs {
            do {
                try database.execute("SAVEPOINT job")
                let result = try job.body(statements)
                try database.execute("RELEASE job")
                results.append(.success(result))
            } catch {
                try? database.execute("ROLLBACK TO job")
                try? database.execute("RELEASE job")
                results.append(.failure(Self.error(job.operation, "\(error)")))
            }
        }
        do {
            try database.execute("COMMIT")
            _ = self.transactions.next()
        } catch {
            try? database.execute("ROLLBACK")
            for job in jobs { job.continuation.resume(throwing: Self.error("commit", "\(error)")) }
            return
        }
        for (job, result) in zip(jobs, results) { job.continuation.resume(with: result.mapError { $0 as any Error }) }
    }

    func nextWakeUp() -> Date? { nil }

    func refuse(_ jobs: [Job]) {
        for job in jobs { job.continuation.resume(throwing: Self.error("run", "event index closed")) }
    }

    func shutDown() {
        self.statements = nil
    }

    private static func error(_ operation: String, _ message: String) -> BackendError {
        BackendError(.unavailable, backend: "sqlite-events", operation: operation, message: message)
    }
}

/// No index: the consumer decides create or update from SEQUENCE.
public struct NoEventIndex: EventIndex {
    public init() {}

    public func isKnown(uid: String) async throws -> Bool? { nil }

    public func recordCreated(uid: String, creatingDomain: String?) async throws {}

    public func creatingDomain(uid: String) async throws -> String? { nil }
}
