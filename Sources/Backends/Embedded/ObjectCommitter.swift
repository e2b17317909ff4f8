import Foundation

/// Makes staged objects durable and visible, on the store's one committer thread.
///
/// Per batch: writeback of every temp file is started and all are `fdatasync`ed together,
/// the metadata of all of them is written in one SQLite transaction, each temp file is
/// renamed to its key, and each parent directory touched is fsync'd once. A put is
/// answered only after all of that succeeded for it. With a batch size of 1 this is the
/// one-fsync-per-message path.
final class ObjectCommitter: BatchHandler {
    typealias Job = StagedObject

    private let metadata: ObjectMetadataTable
    /// Directories known to exist, so that a put does not re-create its parents each time.
    /// Forgotten after any failure, in case the tree changed underneath.
    private var existingDirectories: Set<String> = []

    private let batches: LockedCounter

    init(metadata: ObjectMetadataTable, batches: LockedCounter) {
        self.metadata = metadata
        self.batches = batches
    }

    func run(_ jobs: [StagedObject]) {
        _ = self.batches.next()
        var staged: [StagedObject] = []
        var directoriesToSync: [ObjectIdentifier: Set<String>] = [:]
        for item in jobs {
            do {
                let parent = FileSystem.parent(of: item.request.objectPath)
                var directories: Set<String> = [parent]
                if !self.existingDirectories.contains(parent) {
                    directories.formUnion(try FileSystem.makeDirectories(parent))
                    self.existingDirectories.insert(parent)
                }
                directoriesToSync[ObjectIdentifier(item)] = directories
                staged.append(item)
            } catch {
                self.fail(item, error)
            }
        }
        let syncErrors = FileSystem.dataSyncAll(staged.map(\.temp))
        staged = zip(staged, syncErrors).compactMap { item, error in
            do {
                if let error { throw error }
                try item.temp.close()
                return item
            } catch {
                self.fail(item, error)
                return nil
            }
        }
        do {
            try self.metadata.store(staged.map { ($0.request.key, $0.request.metadata) })
        } catch {
            for item in staged { self.fail(item, error) }
            return
        }
        staged = staged.filter { item in
            do {
                try FileSystem.rename(item.temp.path, to: item.request.objectPath)
                return true
            } catch {
                self.fail(item, error)
                return false
            }
        }
        let directories = Array(Set(staged.flatMap { directoriesToSync[ObjectIdentifier($0)] ?? [] }))
        let directoryErrors = FileSystem.syncDirectories(directories)
        for item in staged {
            if let error = (directoriesToSync[ObjectIdentifier(item)] ?? []).lazy.compactMap({ directoryErrors[$0] }).first {
                self.existingDirectories = []
                item.request.continuation.resume(throwing: Self.backendError(error))
            } else {
                item.request.continuation.resume(returning: StoredObject(key: item.request.key, size: item.size, eTag: item.eTag))
            }
        }
    }

    func nextWakeUp() -> Date? { nil }

    func refuse(_ jobs: [StagedObject]) {
        for item in jobs {
            FileSystem.removeFile(item.temp.path)
            item.request.continuation.resume(throwing: Self.closedError)
        }
    }

    func shutDown() {}

    private func fail(_ item: StagedObject, _ error: any Error) {
        self.existingDirectories = []
        FileSystem.removeFile(item.temp.path)
        item.request.continuation.resume(throwing: Self.backendError(error))
    }

    static func backendError(_ error: any Error) -> BackendError {
        if let error = error as? BackendError { return error }
        return BackendError(.unavailable, backend: "filesystem", operation: "put", message: "\(error)")
    }

    static let closedError = BackendError(.unavailable, backend: "filesystem", operation: "put", message: "object store closed")
}

/// Object metadata in `<directory>/.meta/metadata.sqlite`:
/// `object_metadata(key TEXT PRIMARY KEY, metadata TEXT NOT NULL)`, metadata a JSON object
/// of strings. One connection per thread that uses it.
final class ObjectMetadataTable {
    private let database: SQLiteDatabase
    private let upsert: SQLiteDatabase.Statement
    private let select: SQLiteDatabase.Statement

    init(path: String) throws {
        self.database = try SQLiteDatabase(path: path)
        try self.database.execute(
            """
            PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
            CREATE TABLE IF NOT EXISTS object_metadata (key TEXT PRIMARY KEY, metadata TEXT NOT NULL);
            """)
        self.upsert = try self.database.prepare("INSERT OR REPLACE INTO object_metadata (key, metadata) VALUES (?1, ?2)")
        self.select = try self.database.prepare("SELECT metadata FROM object_metadata WHERE key = ?1")
    }

    /// Writes every entry in one transaction.
    func store(_ entries: [(key: String, metadata: [String: String])]) throws {
        guard !entries.isEmpty else { return }
        try self.database.execute("BEGIN IMMEDIATE")
        do {
            for entry in entries {
                try self.upsert.run([.text(entry.key), .text(try Self.encode(entry.metadata))])
            }
            try self.database.execute("COMMIT")
        } catch {
            try? self.database.execute("ROLLBACK")
            throw error
        }
    }

    /// The key's metadata; empty when none was stored.
    func metadata(for key: String) throws -> [String: String] {
        try self.select.bind([.text(key)])
        defer { self.select.reset() }
        guard try self.select.step(), let json = self.select.text(0) else { return [:] }
        return try JSONDecoder().decode([String: String].self, from: Data(json.utf8))
    }

    private static func encode(_ metadata: [String: String]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(metadata), as: UTF8.self)
    }
}
