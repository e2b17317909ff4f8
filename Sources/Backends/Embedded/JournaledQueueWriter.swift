import BlockingWork
import Foundation
import Logging

/// Brings `queue.sqlite` up to date with the notifications the object journal made durable.
///
/// The committer hands over each batch's notifications after answering its puts
/// (`enqueue`); this writer inserts them on its own connection, in its own batcher, in one
/// transaction per batch committed with `synchronous = NORMAL` (no fsync: the journal is
/// what makes them durable), then tells the queue (`SQLiteMessageQueue.noteSentElsewhere`)
/// so that waiting receivers look again. Each insert is recorded in `journal_applied`
/// (message id, journal epoch) in the same transaction, so that start-up replay of the
/// journal, which applies every notification it finds, inserts none twice. Before the
/// journal is emptied at a checkpoint, `makeDurable` applies whatever is pending and
/// commits once with `synchronous = FULL`, which makes every earlier transaction durable.
/// Rows of older epochs are removed once the journal has moved on to a new one.
final class JournaledQueueWriter: @unchecked Sendable {
    // @unchecked: `core` is used only with `connectionLock` held; `pending` has its own lock,
    // so that `enqueue`, which the committer calls before it answers a batch, never waits
    // for the connection (a transaction that waits out another process's write lock).
    private let connectionLock = NSLock()
    private let core: Core
    private let pending = PendingNotifications()
    private let batcher: Batcher<Drain>

    static let retryDelay: TimeInterval = 1
    static let busyTimeoutMilliseconds: Int32 = 1000

    init(
        queuePath: String, maxReceiveCount: Int, onApplied: @escaping @Sendable () -> Void, logger: Logger,
        retryDelay: TimeInterval = JournaledQueueWriter.retryDelay,
        busyTimeoutMilliseconds: Int32 = JournaledQueueWriter.busyTimeoutMilliseconds
    ) throws {
        let core = try Core(
            path: queuePath, maxReceiveCount: maxReceiveCount, busyTimeoutMilliseconds: busyTimeoutMilliseconds,
            onApplied: onApplied, logger: logger)
        self.core = core
        self.batcher = Batcher(
            maximumBatchSize: 1,
            handler: Drain(connectionLock: self.connectionLock, core: core, pending: self.pending, retryDelay: retryDelay))
    }

    /// Queues a batch's notifications for insertion, after the journal made them durable.
    func enqueue(_ notifications: [JournaledNotification], epoch: UInt64) {
        guard !notifications.isEmpty else { return }
        self.pending.append(notifications, epoch: epoch)
        self.batcher.submit(())
    }

    /// Inserts whatever is pending, then commits durably; throws when either fails (the
    /// journal must then keep its records).
    func makeDurable() throws {
        self.connectionLock.lock()
        defer { self.connectionLock.unlock() }
        try self.core.apply(self.pending)
        try self.core.commitDurably()
    }

    /// At start-up, before the journal is emptied: inserts the notifications of its records
    /// that are not in the table yet and makes the table durable. Returns how many it inserted.
    func applyReplayed(_ notifications: [JournaledNotification], epoch: UInt64) throws -> Int {
        self.connectionLock.lock()
        defer { self.connectionLock.unlock() }
        try self.core.apply(self.pending)
        let inserted = try self.core.apply(notifications, epoch: epoch)
        try self.core.commitDurably()
        return inserted
    }

    /// Notifications handed over but not yet in the table.
    var pendingCount: Int { self.pending.count }

    /// The connection and what waits for it.
    fileprivate final class Core {
        let database: SQLiteDatabase
        let tables: QueueTables
        private let insertApplied: SQLiteDatabase.Statement
        private let pruneApplied: SQLiteDatabase.Statement
        private let touchSync: SQLiteDatabase.Statement
        let onApplied: @Sendable () -> Void
        let logger: Logger
        /// The epoch whose older rows were last removed.
        private var prunedBefore: UInt64?
        var failingSince: Date?

        init(
            path: String, maxReceiveCount: Int, busyTimeoutMilliseconds: Int32, onApplied: @escaping @Sendable () -> Void,
            logger: Logger
        ) throws {
            self.database = try SQLiteDatabase(path: path)
            try self.database.execute(
                """
                PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
                CREATE TABLE IF NOT EXISTS journal_applied (message_id TEXT PRIMARY KEY, epoch INTEGER NOT NULL) WITHOUT ROWID;
                CREATE TABLE IF NOT EXISTS journal_sync (id INTEGER PRIMARY KEY CHECK (id = 1), synced_at INTEGER NOT NULL);
                """)
            self.tables = try QueueTables(database: self.database, maxReceiveCount: maxReceiveCount)
            // A queue database locked for long (a stuck consumer, a backup) must not hold up a
            // checkpoint, and with it the intake, for more than this; it is retried later.
            self.database.setBusyTimeout(milliseconds: busyTimeoutMilliseconds)
            self.insertApplied = try self.database.prepare(
                "INSERT OR IGNORE INTO journal_applied (message_id, epoch) VALUES (?1, ?2)")
            self.pruneApplied = try self.database.prepare("DELETE FROM journal_applied WHERE epoch <> ?1")
            self.touchSync = try self.database.prepare("INSERT OR REPLACE INTO journal_sync (id, synced_at) VALUES (1, ?1)")
            self.onApplied = onApplied
            self.logger = logger
        }

        /// Inserts every pending batch in one transaction; they stay pending if it fails.
        func apply(_ pending: PendingNotifications) throws {
            let batches = pending.take()
            guard !batches.isEmpty else { return }
            do {
                try self.transaction {
                    for batch in batches {
                        _ = try self.insert(batch.notifications, epoch: batch.epoch)
                    }
                }
            } catch {
                pending.putBack(batches)
                throw error
            }
            pending.taken(applied: batches)
            self.onApplied()
        }

        /// Inserts the notifications not applied before, in one transaction; returns how many.
        func apply(_ notifications: [JournaledNotification], epoch: UInt64) throws -> Int {
            var inserted = 0
            try self.transaction { inserted = try self.insert(notifications, epoch: epoch) }
            if inserted > 0 { self.onApplied() }
            return inserted
        }

        /// A FULL commit: the WAL is synced, and with it every transaction before this one.
        func commitDurably() throws {
            try self.database.execute("PRAGMA synchronous = FULL")
            defer { try? self.database.execute("PRAGMA synchronous = NORMAL") }
            try self.transaction { try self.touchSync.run([.integer(QueueBatch.now())]) }
        }

        private func insert(_ notifications: [JournaledNotification], epoch: UInt64) throws -> Int {
            let epochValue = Int(Int64(bitPattern: epoch))
            if self.prunedBefore != epoch {
                // Rows of older epochs: their journal was emptied before this epoch's records were written.
                try self.pruneApplied.run([.integer(epochValue)])
                self.prunedBefore = epoch
            }
            let now = QueueBatch.now()
            var inserted = 0
            for notification in notifications {
                try self.insertApplied.run([.text(notification.messageId), .integer(epochValue)])
                guard self.database.changes == 1 else { continue }
                try self.tables.send(messageId: notification.messageId, body: notification.body, now: now)
                inserted += 1
            }
            return inserted
        }

        private func transaction(_ body: () throws -> Void) throws {
            try self.database.execute("BEGIN IMMEDIATE")
            do {
                try body()
                try self.database.execute("COMMIT")
            } catch {
                try? self.database.execute("ROLLBACK")
                self.prunedBefore = nil
                throw error
            }
        }
    }

    /// The batcher's job: insert what is pending; on failure, try again after `retryDelay`.
    private final class Drain: BatchHandler {
        typealias Job = Void
        private let connectionLock: NSLock
        private let core: Core
        private let pending: PendingNotifications
        private let retryDelay: TimeInterval
        private var retryAt: Date?

        init(connectionLock: NSLock, core: Core, pending: PendingNotifications, retryDelay: TimeInterval) {
            self.connectionLock = connectionLock
            self.core = core
            self.pending = pending
            self.retryDelay = retryDelay
        }

        func run(_ jobs: [Void]) {
            if jobs.isEmpty, let retryAt = self.retryAt, retryAt > Date() { return }
            self.connectionLock.lock()
            defer { self.connectionLock.unlock() }
            do {
                try self.core.apply(self.pending)
                if self.core.failingSince != nil {
                    self.core.logger.notice("queue: journaled notifications are being inserted again")
                }
                self.core.failingSince = nil
                self.retryAt = nil
            } catch {
                if self.core.failingSince == nil {
                    self.core.failingSince = Date()
                    self.core.logger.warning(
                        "queue: journaled notifications could not be inserted yet; they are durable in the object journal and are retried",
                        metadata: ["queue.error": "\(error)", "queue.pending": "\(self.pending.count)"])
                }
                self.retryAt = Date().addingTimeInterval(self.retryDelay)
            }
        }

        func nextWakeUp() -> Date? { self.retryAt }

        func refuse(_ jobs: [Void]) {}

        func shutDown() {}
    }
}
