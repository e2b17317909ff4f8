import BlockingWork
import Foundation

/// The embedded event index: the iCalendar UIDs routed to `create`, in
/// `<data-dir>/events.sqlite`, table `events(uid TEXT PRIMARY KEY, created_at INTEGER)`
/// (milliseconds since the Unix epoch).
public final class SQLiteEventIndex: EventIndex {
    public let path: String
    private let executor: BlockingSerialQueue
    private let connection: ConnectionBox

    public init(path: String) throws {
        self.path = path
        do {
            let database = try SQLiteDatabase(path: path)
            try database.execute(
                """
                PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
                CREATE TABLE IF NOT EXISTS events (uid TEXT PRIMARY KEY, created_at INTEGER NOT NULL);
                """)
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

    public func recordCreated(uid: String) async throws {
        let connection = self.connection
        try await self.executor.run {
            try Self.mapErrors(operation: "recordCreated") {
                try connection.database.prepare("INSERT OR IGNORE INTO events (uid, created_at) VALUES (?1, ?2)")
                    .run([.text(uid), .integer(Int(Date().timeIntervalSince1970 * 1000))])
            }
        }
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

    public func recordCreated(uid: String) async throws {}
}
