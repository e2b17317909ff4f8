import BlockingWork
import FileIO
import Foundation
import Logging
import Notifications

/// Makes staged objects durable and visible, in the store's one committer batcher.
///
/// With a journal (group commit), per batch: every put is appended to the journal, which
/// is `fdatasync`ed once, together with the temp files of bodies too large for it; the
/// metadata of all of them is written in one SQLite transaction; each temp file is
/// renamed to its key, and each small body that came without one (`StagedObject.temp` nil,
/// its bytes only in the journal record until now) is written to its object file; only the
/// directories of the large bodies are fsync'd. A put is
/// answered only after all of that succeeded for it. The journal is checkpointed (one
/// `syncfs`, then emptied) once it holds `checkpointBytes` or its oldest record is
/// `checkpointInterval` old.
///
/// With a `JournaledQueueWriter`, a put's queue notification is in its journal record
/// (one `fdatasync` for both); once the batch is answered, its notifications go to the
/// writer, which inserts them into the queue's table off the reply path. A checkpoint
/// first has the writer make the table durable, then empties the journal.
///
/// Without a journal, each put in a batch (then of size 1) is `fdatasync`ed, its metadata
/// committed and its directory fsync'd: the one-fsync-per-message path.
final class ObjectCommitter: BatchHandler {
    enum Job: Sendable {
        case commit(StagedObject)
        /// Checkpoint now (a clean shutdown), then answer.
        case checkpoint(CheckedContinuation<Void, Never>)
    }

    struct Checkpoints {
        var bytes: Int
        var interval: TimeInterval
        /// `FileSystem.syncFileSystem`, or a stand-in that fails (tests of a failed writeback).
        var syncFileSystem: @Sendable (String) throws -> Void = { try FileSystem.syncFileSystem(containing: $0) }
        /// Called after each batch's journal sync, before any object file of the batch is
        /// written (tests copy the store there, as a kill at that moment leaves it).
        var journalSynced: @Sendable () -> Void = {}
        var logger: Logger
    }

    private let directory: String
    private let metadata: ObjectMetadataTable
    private let journal: ObjectJournal?
    private let notifications: JournaledQueueWriter?
    private let checkpoints: Checkpoints
    private let temporaryFiles: TemporaryFileNames
    /// Directories known to exist, so that a put does not re-create its parents each time.
    /// Forgotten after any failure, in case the tree changed underneath.
    private var existingDirectories: Set<String> = []

    private let batches: LockedCounter
    let checkpointCount: LockedCounter

    init(
        directory: String, metadata: ObjectMetadataTable, journal: ObjectJournal?, notifications: JournaledQueueWriter?,
        checkpoints: Checkpoints, temporaryFiles: TemporaryFileNames, batches: LockedCounter, checkpointCount: LockedCounter
    ) {
        self.temporaryFiles = temporaryFiles
        self.directory = directory
        self.metadata = metadata
        self.journal = journal
        self.notifications = journal == nil ? nil : notifications
        self.checkpoints = checkpoints
        self.batches = batches
        self.checkpointCount = checkpointCount
    }

    func run(_ jobs: [Job]) {
        var staged: [StagedObject] = []
        var checkpointWaiters: [CheckedContinuation<Void, Never>] = []
        for job in jobs {
            switch job {
            case .commit(let item): staged.append(item)
            case .checkpoint(let continuation): checkpointWaiters.append(continuation)
            }
        }
        if !staged.isEmpty {
            _ = self.batches.next()
            self.commit(staged)
        }
        self.checkpointIfDue(force: !checkpointWaiters.isEmpty)
        for waiter in checkpointWaiters { waiter.resume() }
    }

    private func commit(_ jobs: [StagedObject]) {
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
                // A journaled put is rewritten from the journal after a crash, directories included.
                if self.journal == nil || item.journalBody == nil {
                    directoriesToSync[ObjectIdentifier(item)] = directories
                }
                staged.append(item)
            } catch {
                self.fail(item, error)
            }
        }
        staged = self.syncData(staged)
        do {
            try self.metadata.store(staged.map { ($0.request.key, $0.metadataJSON) })
        } catch {
            for item in staged { self.fail(item, error) }
            return
        }
        staged = staged.filter { item in
            do {
                if let temp = item.temp {
                    try FileSystem.rename(temp.path, to: item.request.objectPath)
                } else if let body = item.journalBody {
                    try self.writeObjectFile(body, to: item.request.objectPath)
                }
                return true
            } catch {
                self.fail(item, error)
                return false
            }
        }
        let directories = Array(Set(staged.flatMap { directoriesToSync[ObjectIdentifier($0)] ?? [] }))
        let directoryErrors = FileSystem.syncDirectories(directories)
        let outcomes = staged.map { item in
            (item, (directoriesToSync[ObjectIdentifier(item)] ?? []).lazy.compactMap({ directoryErrors[$0] }).first)
        }
        // The notifications go to the queue's writer before their puts are answered, so that
        // a checkpoint after any answer finds them there.
        if let notifications = self.notifications, let journal = self.journal {
            notifications.enqueue(outcomes.compactMap { $0.1 == nil ? $0.0.notification : nil }, epoch: journal.epoch)
        }
        for (item, error) in outcomes {
            if let error {
                self.existingDirectories = []
                item.request.completion(.failure(Self.backendError(error)))
            } else {
                item.request.completion(.success(StoredObject(key: item.request.key, size: item.size, eTag: item.eTag)))
            }
        }
    }

    /// Writes a journaled body to its object file (through a temp file, so that a reader
    /// sees the whole object or none); synced at the next checkpoint, rewritten from the
    /// journal after a crash before it.
    private func writeObjectFile(_ body: [UInt8], to objectPath: String) throws {
        let temp = try FileDescriptor.open(self.temporaryFiles.next(), flags: O_WRONLY | O_CREAT | O_EXCL)
        do {
            try temp.writeAll(body)
            try temp.close()
            try FileSystem.rename(temp.path, to: objectPath)
        } catch {
            try? temp.close()
            FileSystem.removeFile(temp.path)
            throw error
        }
    }

    /// Makes the bytes of every put durable (journal records, or the temp files of bodies
    /// that are not journaled) and closes the temp files; returns the puts that succeeded.
    private func syncData(_ staged: [StagedObject]) -> [StagedObject] {
        var unjournaled = staged
        var journalError: (any Error)?
        var journalStart = 0
        if let journal = self.journal {
            unjournaled = staged.filter { $0.journalBody == nil }
            journalStart = journal.size
            do {
                try journal.append(staged.map { ($0.request.key, $0.metadataJSON, $0.journalBody, $0.notification) })
                try journal.file.dataSync()
                BackendMetrics.journalSynced(batch: staged.count)
                self.checkpoints.journalSynced()
            } catch {
                journalError = error
                journal.discard(from: journalStart)
            }
        }
        // Without a journal every put has a temp file; with one, only bodies over its limit need theirs synced.
        unjournaled = unjournaled.filter { $0.temp != nil }
        let syncErrors = FileSystem.dataSyncAll(unjournaled.compactMap(\.temp))
        let unjournaledErrors = Dictionary(uniqueKeysWithValues: zip(unjournaled.map(ObjectIdentifier.init), syncErrors))
        return staged.compactMap { item in
            do {
                // Every record is in the journal, large bodies' too (for their metadata).
                if let journalError { throw journalError }
                if let error = unjournaledErrors[ObjectIdentifier(item)] ?? nil { throw error }
                try item.temp?.close()
                return item
            } catch {
                self.fail(item, error)
                return nil
            }
        }
    }

    func nextWakeUp() -> Date? {
        self.journal?.oldestRecordAt.map { $0.addingTimeInterval(self.checkpoints.interval) }
    }

    /// Makes every object file durable at once and empties the journal, when it is due.
    private func checkpointIfDue(force: Bool = false) {
        guard let journal = self.journal, let oldest = journal.oldestRecordAt else { return }
        guard force || journal.size >= self.checkpoints.bytes || Date() >= oldest.addingTimeInterval(self.checkpoints.interval)
        else { return }
        let logger = self.checkpoints.logger
        let started = ContinuousClock.now
        do {
            // The journal's notifications must be in the queue's table, durably, before it is emptied.
            try self.notifications?.makeDurable()
            do {
                try self.checkpoints.syncFileSystem(self.directory)
            } catch {
                // A failed writeback may have dropped an object file's pages: write every
                // object out again from the journal, as at start-up, and sync once more.
                logger.warning(
                    "object store checkpoint sync failed; writing the journaled objects out again",
                    metadata: ["objects.directory": "\(self.directory)", "objects.error": "\(error)"])
                let written = try ObjectJournal.replay(
                    path: journal.file.path, directory: self.directory,
                    temporaryDirectory: "\(self.directory)/\(FileSystemObjectStore.temporaryDirectoryName)", metadata: self.metadata,
                    notifications: self.notifications)
                logger.notice("object store wrote its journaled objects out again", metadata: ["objects.rewritten": "\(written)"])
            }
            try journal.reset()
            _ = self.checkpointCount.next()
            BackendMetrics.checkpointFinished(directory: self.directory, duration: ContinuousClock.now - started, succeeded: true)
        } catch {
            BackendMetrics.checkpointFinished(directory: self.directory, duration: ContinuousClock.now - started, succeeded: false)
            // The journal still holds every record: nothing is lost, and the next due time retries.
            logger.error(
                "object store checkpoint failed; the journal keeps every message and grows until a checkpoint succeeds",
                metadata: [
                    "objects.directory": "\(self.directory)", "objects.error": "\(error)", "objects.journal_bytes": "\(journal.size)",
                ])
            journal.postponeCheckpoint()
        }
    }

    func refuse(_ jobs: [Job]) {
        for job in jobs {
            switch job {
            case .commit(let item):
                if let temp = item.temp { FileSystem.removeFile(temp.path) }
                item.request.completion(.failure(Self.closedError))
            case .checkpoint(let continuation):
                self.checkpointIfDue(force: true)
                continuation.resume()
            }
        }
    }

    func shutDown() {
        self.checkpointIfDue(force: true)
    }

    private func fail(_ item: StagedObject, _ error: any Error) {
        self.existingDirectories = []
        if let temp = item.temp { FileSystem.removeFile(temp.path) }
        item.request.completion(.failure(Self.backendError(error)))
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

    /// - Parameter durableCommits: false when the object journal holds the metadata until
    ///   a checkpoint: commits then skip their fsync (WAL mode stays consistent).
    init(path: String, durableCommits: Bool = true) throws {
        self.database = try SQLiteDatabase(path: path)
        try self.database.execute(
            """
            PRAGMA journal_mode = WAL; PRAGMA synchronous = \(durableCommits ? "FULL" : "NORMAL");
            CREATE TABLE IF NOT EXISTS object_metadata (key TEXT PRIMARY KEY, metadata TEXT NOT NULL);
            """)
        self.upsert = try self.database.prepare("INSERT OR REPLACE INTO object_metadata (key, metadata) VALUES (?1, ?2)")
    }

    /// Writes every entry, its metadata already JSON (`encode`), in one transaction.
    func store(_ entries: [(key: String, metadataJSON: String)]) throws {
        guard !entries.isEmpty else { return }
        try self.database.execute("BEGIN IMMEDIATE")
        do {
            for entry in entries {
                try self.upsert.run([.text(entry.key), .text(entry.metadataJSON)])
            }
            try self.database.execute("COMMIT")
        } catch {
            try? self.database.execute("ROLLBACK")
            throw error
        }
    }

    /// Metadata as this table (and the object journal) store it: a JSON object of strings,
    /// keys sorted. Written directly: `JSONEncoder` took 3.5% of the intake's CPU time.
    static func encode(_ metadata: [String: String]) -> String {
        var writer = JSONObjectWriter(reservingCapacity: metadata.reduce(2) { $0 + $1.key.utf8.count + $1.value.utf8.count + 6 })
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            writer.field(key, value)
        }
        return writer.finish()
    }

    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    /// A JSON object of strings, as `encode` writes it (read by the store's reader and by
    /// journal replay), with `JSONValueReader`: `JSONDecoder` cost more per fetch than reading
    /// the object's file.
    static func decode(_ json: String) throws -> [String: String] {
        guard case .object(let object) = try JSONValueReader.read(json) else { throw Malformed(description: "metadata is not a JSON object") }
        var metadata: [String: String] = [:]
        metadata.reserveCapacity(object.members.count)
        for member in object.members {
            guard case .string(let value) = member.value else { throw Malformed(description: "metadata \(member.key) is not a string") }
            metadata[member.key] = value
        }
        return metadata
    }
}
