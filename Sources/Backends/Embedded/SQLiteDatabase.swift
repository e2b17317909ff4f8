internal import CSQLite

/// A SQLite connection, the only file that imports CSQLite.
///
/// Not `Sendable`: a connection is used by one pool job at a time, serialized by its owner's
/// `Batcher` or `BlockingSerialQueue`, and is closed in `deinit`.
final class SQLiteDatabase {
    let path: String
    private var handle: OpaquePointer?

    struct Error: Swift.Error, CustomStringConvertible {
        var code: Int32
        var message: String
        var description: String { "SQLite error \(self.code): \(self.message)" }
    }

    init(path: String) throws {
        self.path = path
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &handle, flags, nil)
        guard code == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(handle)
            throw Error(code: code, message: "\(path): \(message)")
        }
        self.handle = handle
        sqlite3_extended_result_codes(handle, 1)
        // Wait for other connections (another process, or our own previous one still closing).
        sqlite3_busy_timeout(handle, 10_000)
    }

    deinit {
        sqlite3_close_v2(self.handle)
    }

    /// How long a statement waits for another connection's lock before it fails (10 s at first).
    func setBusyTimeout(milliseconds: Int32) {
        sqlite3_busy_timeout(self.handle, milliseconds)
    }

    /// Runs one or more statements without results.
    func execute(_ sql: String) throws {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(self.handle, sql, nil, nil, &errorMessage)
        guard code == SQLITE_OK else {
            let message = errorMessage.map { String(cString: $0) } ?? self.lastErrorMessage
            sqlite3_free(errorMessage)
            throw Error(code: code, message: message)
        }
    }

    func prepare(_ sql: String) throws -> Statement {
        var statement: OpaquePointer?
        try self.check(sqlite3_prepare_v2(self.handle, sql, -1, &statement, nil))
        return Statement(database: self, handle: statement!)
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    var changes: Int { Int(sqlite3_changes(self.handle)) }

    fileprivate var lastErrorMessage: String { String(cString: sqlite3_errmsg(self.handle)) }

    fileprivate func check(_ code: Int32) throws {
        guard code == SQLITE_OK || code == SQLITE_ROW || code == SQLITE_DONE else {
            throw Error(code: code, message: self.lastErrorMessage)
        }
    }

    /// A prepared statement, reusable through `reset()`.
    final class Statement {
        private unowned let database: SQLiteDatabase
        private let handle: OpaquePointer

        fileprivate init(database: SQLiteDatabase, handle: OpaquePointer) {
            self.database = database
            self.handle = handle
        }

        deinit {
            sqlite3_finalize(self.handle)
        }

        /// Clears bindings and rewinds, then binds `values` to `?1`, `?2`, ...
        @discardableResult
        func bind(_ values: [Value]) throws -> Statement {
            sqlite3_reset(self.handle)
            sqlite3_clear_bindings(self.handle)
            for (offset, value) in values.enumerated() {
                let index = Int32(offset + 1)
                switch value {
                case .integer(let integer):
                    try self.database.check(sqlite3_bind_int64(self.handle, index, Int64(integer)))
                case .text(let text):
                    let code = text.withCString { csqlite_bind_text_transient(self.handle, index, $0, -1) }
                    try self.database.check(code)
                case .null:
                    try self.database.check(sqlite3_bind_null(self.handle, index))
                }
            }
            return self
        }

        /// Advances to the next row; false when done.
        func step() throws -> Bool {
            let code = sqlite3_step(self.handle)
            if code == SQLITE_ROW { return true }
            sqlite3_reset(self.handle)
            try self.database.check(code)
            return false
        }

        /// Ends the current read, releasing its lock on the database.
        func reset() {
            sqlite3_reset(self.handle)
        }

        /// Runs a statement that returns no rows.
        func run(_ values: [Value] = []) throws {
            try self.bind(values)
            while try self.step() {}
        }

        func integer(_ column: Int) -> Int {
            Int(sqlite3_column_int64(self.handle, Int32(column)))
        }

        func text(_ column: Int) -> String? {
            guard let text = sqlite3_column_text(self.handle, Int32(column)) else { return nil }
            let count = Int(sqlite3_column_bytes(self.handle, Int32(column)))
            return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
        }
    }

    enum Value {
        case integer(Int)
        case text(String)
        case null
    }
}
