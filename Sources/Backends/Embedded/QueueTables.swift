import Digest
import Foundation

/// The queue's tables and statements on one SQLite connection (thread-confined).
///
/// Schema (read by the Python integration tests; times are milliseconds since the Unix epoch):
///
///     messages(
///       seq               INTEGER PRIMARY KEY AUTOINCREMENT,  -- send order
///       message_id        TEXT NOT NULL UNIQUE,               -- a UUID, as SQS MessageId
///       body              TEXT NOT NULL,                      -- the notification (S3 event JSON)
///       sent_at           INTEGER NOT NULL,
///       visible_at        INTEGER NOT NULL,                   -- receivable when visible_at <= now
///       receive_count     INTEGER NOT NULL DEFAULT 0,
///       receipt_handle    TEXT,                               -- of the latest receive; NULL before
///       first_received_at INTEGER,
///       transient_failures INTEGER NOT NULL DEFAULT 0)        -- receives handed back by retryLater, not
///                                                             -- in receive_count (added to older files)
///     dead_letters(
///       seq INTEGER PRIMARY KEY, message_id TEXT NOT NULL UNIQUE, body TEXT NOT NULL,
///       sent_at INTEGER NOT NULL, receive_count INTEGER NOT NULL, dead_lettered_at INTEGER NOT NULL)
///
///     journal_applied(message_id TEXT PRIMARY KEY, epoch INTEGER NOT NULL)  -- notifications inserted
///       from the object journal (`JournaledQueueWriter`), kept until the journal moves to a new epoch
///     journal_sync(id INTEGER PRIMARY KEY, synced_at INTEGER NOT NULL)       -- the writer's durable commits
///
/// A receipt handle is `<seq>.<32 hex digits>`, new for every receive. A redriven dead letter
/// goes back to `messages` with its message id and body, a new `seq` and no receives.
final class QueueTables {
    static let schema = """
        CREATE TABLE IF NOT EXISTS messages (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          message_id TEXT NOT NULL UNIQUE,
          body TEXT NOT NULL,
          sent_at INTEGER NOT NULL,
          visible_at INTEGER NOT NULL,
          receive_count INTEGER NOT NULL DEFAULT 0,
          receipt_handle TEXT,
          first_received_at INTEGER,
          transient_failures INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX IF NOT EXISTS messages_by_visibility ON messages (visible_at, seq);
        CREATE TABLE IF NOT EXISTS dead_letters (
          seq INTEGER PRIMARY KEY,
          message_id TEXT NOT NULL UNIQUE,
          body TEXT NOT NULL,
          sent_at INTEGER NOT NULL,
          receive_count INTEGER NOT NULL,
          dead_lettered_at INTEGER NOT NULL
        );
        """

    let database: SQLiteDatabase
    private let maxReceiveCount: Int
    private let insert: SQLiteDatabase.Statement
    private let selectVisible: SQLiteDatabase.Statement
    private let markReceived: SQLiteDatabase.Statement
    private let moveToDeadLetters: SQLiteDatabase.Statement
    private let deleteBySeq: SQLiteDatabase.Statement
    private let deleteByHandle: SQLiteDatabase.Statement
    private let updateVisibility: SQLiteDatabase.Statement
    private let selectNextVisibleAt: SQLiteDatabase.Statement
    private let handBack: SQLiteDatabase.Statement

    init(database: SQLiteDatabase, maxReceiveCount: Int) throws {
        self.database = database
        self.maxReceiveCount = maxReceiveCount
        try database.execute(Self.schema)
        try Self.addTransientFailuresColumn(database)
        self.insert = try database.prepare(
            "INSERT INTO messages (message_id, body, sent_at, visible_at) VALUES (?1, ?2, ?3, ?3)")
        self.selectVisible = try database.prepare(
            """
            SELECT seq, message_id, body, receive_count, transient_failures FROM messages WHERE visible_at <= ?1
              ORDER BY visible_at, seq LIMIT ?2
            """)
        self.markReceived = try database.prepare(
            """
            UPDATE messages SET receive_count = receive_count + 1, receipt_handle = ?2, visible_at = ?3,
              first_received_at = coalesce(first_received_at, ?4) WHERE seq = ?1
            """)
        self.moveToDeadLetters = try database.prepare(
            """
            INSERT INTO dead_letters (seq, message_id, body, sent_at, receive_count, dead_lettered_at)
              SELECT seq, message_id, body, sent_at, receive_count, ?2 FROM messages WHERE seq = ?1
            """)
        self.deleteBySeq = try database.prepare("DELETE FROM messages WHERE seq = ?1")
        self.deleteByHandle = try database.prepare("DELETE FROM messages WHERE seq = ?1 AND receipt_handle = ?2")
        self.updateVisibility = try database.prepare(
            "UPDATE messages SET visible_at = ?3 WHERE seq = ?1 AND receipt_handle = ?2")
        self.selectNextVisibleAt = try database.prepare("SELECT min(visible_at) FROM messages WHERE visible_at > ?1")
        self.handBack = try database.prepare(
            """
            UPDATE messages SET visible_at = ?3, receive_count = max(receive_count - 1, 0),
              transient_failures = transient_failures + 1 WHERE seq = ?1 AND receipt_handle = ?2
            """)
    }

    /// Files written before `transient_failures` existed get the column.
    private static func addTransientFailuresColumn(_ database: SQLiteDatabase) throws {
        let columns = try database.prepare("SELECT 1 FROM pragma_table_info('messages') WHERE name = 'transient_failures'")
        if try columns.step() {
            columns.reset()
            return
        }
        try database.execute("ALTER TABLE messages ADD COLUMN transient_failures INTEGER NOT NULL DEFAULT 0")
    }

    func send(body: String, now: Int) throws -> String {
        let messageId = UUID().uuidString.lowercased()
        try self.send(messageId: messageId, body: body, now: now)
        return messageId
    }

    /// A message whose id was chosen before (a notification from the object journal).
    func send(messageId: String, body: String, now: Int) throws {
        try self.insert.run([.text(messageId), .text(body), .integer(now)])
    }

    /// Up to `maxMessages` visible messages, hidden until `now + visibilityTimeout`; messages
    /// already received `maxReceiveCount` times move to `dead_letters` instead.
    func receive(maxMessages: Int, visibilityTimeout: Int, now: Int) throws -> [QueueMessage] {
        var received: [QueueMessage] = []
        while received.count < maxMessages {
            struct Row { var seq: Int; var messageId: String; var body: String; var receiveCount: Int; var transientFailures: Int }
            var rows: [Row] = []
            try self.selectVisible.bind([.integer(now), .integer(maxMessages - received.count)])
            while try self.selectVisible.step() {
                rows.append(
                    Row(
                        seq: self.selectVisible.integer(0), messageId: self.selectVisible.text(1) ?? "",
                        body: self.selectVisible.text(2) ?? "", receiveCount: self.selectVisible.integer(3),
                        transientFailures: self.selectVisible.integer(4)))
            }
            if rows.isEmpty { break }
            for row in rows {
                if row.receiveCount >= self.maxReceiveCount {
                    try self.moveToDeadLetters.run([.integer(row.seq), .integer(now)])
                    try self.deleteBySeq.run([.integer(row.seq)])
                    continue
                }
                let handle = "\(row.seq).\(Digest.randomBytes(16).hexString)"
                try self.markReceived.run([
                    .integer(row.seq), .text(handle), .integer(now + visibilityTimeout * 1000), .integer(now),
                ])
                received.append(
                    QueueMessage(
                        messageId: row.messageId, body: row.body, receiptHandle: handle, receiveCount: row.receiveCount + 1,
                        transientFailures: row.transientFailures))
            }
        }
        return received
    }

    /// Whether a message with this receipt handle (its latest) was deleted.
    func delete(receiptHandle: String) throws -> Bool {
        guard let seq = Self.sequenceNumber(of: receiptHandle) else { return false }
        try self.deleteByHandle.run([.integer(seq), .text(receiptHandle)])
        return self.database.changes == 1
    }

    /// Whether a message with this receipt handle (its latest) had its visibility changed.
    func changeVisibility(receiptHandle: String, visibleAt: Int) throws -> Bool {
        guard let seq = Self.sequenceNumber(of: receiptHandle) else { return false }
        try self.updateVisibility.run([.integer(seq), .text(receiptHandle), .integer(visibleAt)])
        return self.database.changes == 1
    }

    /// Whether a message with this receipt handle (its latest) was handed back: hidden until
    /// `visibleAt`, its latest receive uncounted.
    func retryLater(receiptHandle: String, visibleAt: Int) throws -> Bool {
        guard let seq = Self.sequenceNumber(of: receiptHandle) else { return false }
        try self.handBack.run([.integer(seq), .text(receiptHandle), .integer(visibleAt)])
        return self.database.changes == 1
    }

    /// When the next hidden message becomes visible, if any.
    func nextVisibleAt(after now: Int) throws -> Int? {
        try self.selectNextVisibleAt.bind([.integer(now)])
        defer { self.selectNextVisibleAt.reset() }
        guard try self.selectNextVisibleAt.step(), let text = self.selectNextVisibleAt.text(0) else { return nil }
        return Int(text)
    }

    func statistics(now: Int) throws -> SQLiteMessageQueue.Statistics {
        let statement = try self.database.prepare(
            """
            SELECT (SELECT count(*) FROM messages WHERE visible_at <= ?1),
                   (SELECT count(*) FROM messages WHERE visible_at > ?1),
                   (SELECT count(*) FROM dead_letters)
            """)
        try statement.bind([.integer(now)])
        _ = try statement.step()
        return SQLiteMessageQueue.Statistics(
            visible: statement.integer(0), inFlight: statement.integer(1), deadLetters: statement.integer(2))
    }

    /// When the oldest message in the queue was sent (milliseconds since the epoch); nil when it is empty.
    func oldestSentAt() throws -> Int? {
        let statement = try self.database.prepare("SELECT min(sent_at) FROM messages")
        _ = try statement.step()
        return statement.text(0).flatMap { Int($0) }
    }

    /// Every dead letter, or the one with `messageId`.
    func deadLetters(messageId: String? = nil) throws -> [SQLiteMessageQueue.DeadLetter] {
        try self.deadLetters(
            where: "WHERE ?1 IS NULL OR message_id = ?1 ORDER BY dead_lettered_at, seq", [messageId.map { .text($0) } ?? .null])
    }

    /// Up to `limit` dead letters after `cursor` (nil: from the oldest), oldest first, and the
    /// cursor after the last one (nil when this was the last page).
    func deadLetters(
        after cursor: SQLiteMessageQueue.DeadLetterCursor?, limit: Int
    ) throws -> ([SQLiteMessageQueue.DeadLetter], SQLiteMessageQueue.DeadLetterCursor?) {
        let statement = try self.database.prepare(
            """
            SELECT message_id, body, receive_count, dead_lettered_at, seq FROM dead_letters
              WHERE ?1 IS NULL OR dead_lettered_at > ?1 OR (dead_lettered_at = ?1 AND seq > ?2)
              ORDER BY dead_lettered_at, seq LIMIT ?3
            """)
        try statement.bind([
            cursor.map { .integer($0.deadLetteredAt) } ?? .null, .integer(cursor?.seq ?? 0), .integer(max(1, limit)),
        ])
        var letters: [SQLiteMessageQueue.DeadLetter] = []
        var last: SQLiteMessageQueue.DeadLetterCursor?
        while try statement.step() {
            letters.append(Self.deadLetter(statement))
            last = SQLiteMessageQueue.DeadLetterCursor(deadLetteredAt: statement.integer(3), seq: statement.integer(4))
        }
        return (letters, letters.count < max(1, limit) ? nil : last)
    }

    /// The `limit` newest dead letters, newest first (the status page reads no more than it shows).
    func newestDeadLetters(limit: Int) throws -> [SQLiteMessageQueue.DeadLetter] {
        try self.deadLetters(where: "ORDER BY dead_lettered_at DESC, seq DESC LIMIT ?1", [.integer(max(0, limit))])
    }

    private func deadLetters(where clauses: String, _ values: [SQLiteDatabase.Value]) throws -> [SQLiteMessageQueue.DeadLetter] {
        let statement = try self.database.prepare(
            "SELECT message_id, body, receive_count, dead_lettered_at FROM dead_letters " + clauses)
        try statement.bind(values)
        var letters: [SQLiteMessageQueue.DeadLetter] = []
        while try statement.step() {
            letters.append(Self.deadLetter(statement))
        }
        return letters
    }

    /// A row of `message_id, body, receive_count, dead_lettered_at, ...`.
    private static func deadLetter(_ statement: SQLiteDatabase.Statement) -> SQLiteMessageQueue.DeadLetter {
        SQLiteMessageQueue.DeadLetter(
            messageId: statement.text(0) ?? "", body: statement.text(1) ?? "", receiveCount: statement.integer(2),
            deadLetteredAt: Date(timeIntervalSince1970: Double(statement.integer(3)) / 1000))
    }

    /// Moves dead letters back to the queue, visible at once and with no receives; returns the
    /// message ids moved (all of them, or the one named).
    func redrive(messageId: String?, now: Int) throws -> [String] {
        let moved = try self.deadLetters(messageId: messageId).map(\.messageId)
        let insert = try self.database.prepare(
            """
            INSERT INTO messages (message_id, body, sent_at, visible_at)
              SELECT message_id, body, sent_at, ?2 FROM dead_letters WHERE message_id = ?1
            """)
        let remove = try self.database.prepare("DELETE FROM dead_letters WHERE message_id = ?1")
        for id in moved {
            try insert.run([.text(id), .integer(now)])
            try remove.run([.text(id)])
        }
        return moved
    }

    private static func sequenceNumber(of receiptHandle: String) -> Int? {
        guard let dot = receiptHandle.firstIndex(of: ".") else { return nil }
        return Int(receiptHandle[..<dot])
    }
}
