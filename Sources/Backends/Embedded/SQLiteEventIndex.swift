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
public final class SQLiteEventIndex: EventIndex, PublishLedger {
    public let path: String
    private let executor: BlockingSerialQueue
    private let connection: ConnectionBox

    public init(path: String) throws {
        self.path = path
        let directory = FileSystem.parent(of: path)
        do {
            for parent in try FileSystem.makeDirectories(directory) { try FileSystem.syncDirectory(parent) }
        } catch {
            throw BackendError(
                .unavailable, backend: "sqlite-events", operation: "open", message: "cannot create the directory \(directory): \(error)")
        }
        do {
            let database = try SQLiteDatabase(path: path)
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
            self.connection = ConnectionBox(database: database)
        } catch {
            throw BackendError(.unavailable, backend: "sqlite-events", operation: "open", message: "\(error)")
        }
        self.executor = BlockingSerialQueue()
    }

    public func isKnown(uid: String) async throws -> Bool? {
        let connection = self.connection
        return try await self.executor.run {
            try Self.mapErrors(operation: "isKnown") {
                let statement = try connection.database.prepare("SELECT 1 FROM events WHERE uid = ?1")
                try statement.bind([.text(uid)])
                return try statement.step()
            }
        }
    }

    public func recordCreated(uid: String, creatingDomain: String?) async throws {
        let connection = self.connection
        try await self.executor.run {
            try Self.mapErrors(operation: "recordCreated") {
                try connection.database.prepare("INSERT OR IGNORE INTO events (uid, created_at, creating_domain) VALUES (?1, ?2, ?3)")
                    .run([.text(uid), .integer(Self.now()), creatingDomain.map { .text($0) } ?? .null])
            }
        }
    }

    public func creatingDomain(uid: String) async throws -> String? {
        let connection = self.connection
        return try await self.executor.run {
            try Self.mapErrors(operation: "creatingDomain") {
                let statement = try connection.database.prepare("SELECT creating_domain FROM events WHERE uid = ?1")
                try statement.bind([.text(uid)])
                guard try statement.step() else { return nil }
                return statement.text(0)
            }
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
        let connection = self.connection
        return try await self.executor.run {
            try Self.mapErrors(operation: "publishedMessageId") {
                let statement = try connection.database.prepare(
                    "SELECT message_id FROM published WHERE request_id = ?1 AND uid = ?2 AND sequence = ?3 AND route = ?4")
                try statement.bind([.text(key.requestId), .text(key.uid), .integer(key.sequence), .text(key.route.rawValue)])
                guard try statement.step() else { return nil }
                return statement.text(0)
            }
        }
    }

    public func recordPublished(_ key: PublishKey, messageId: String) async throws {
        let connection = self.connection
        try await self.executor.run {
            try Self.mapErrors(operation: "recordPublished") {
                try connection.database.prepare(
                    """
                    INSERT OR IGNORE INTO published (request_id, uid, sequence, route, message_id, published_at)
                      VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                    """
                ).run([
                    .text(key.requestId), .text(key.uid), .integer(key.sequence), .text(key.route.rawValue), .text(messageId),
                    .integer(Self.now()),
                ])
            }
        }
    }

    private static func now() -> Int {
        Int(Date().timeIntervalSince1970 * 1000)
    }

    private static func mapErrors<Result>(operation: String, _ body: () throws -> Result) throws -> Result {
        do {
            return try body()
        } catch {
            throw BackendError(.unavailable, backend: "sqlite-events", operation: operation, message: "\(error)")
        }
    }

    /// The connection, used only inside `executor.run`.
    private final class ConnectionBox: @unchecked Sendable {
        // @unchecked: `database` is touched only inside `executor.run`, one closure at a time.
        let database: SQLiteDatabase
        init(database: SQLiteDatabase) { self.database = database }
    }
}

/// No index: the consumer decides create or update from SEQUENCE.
public struct NoEventIndex: EventIndex {
    public init() {}

    public func isKnown(uid: String) async throws -> Bool? { nil }

    public func recordCreated(uid: String, creatingDomain: String?) async throws {}

    public func creatingDomain(uid: String) async throws -> String? { nil }
}
