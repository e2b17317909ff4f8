import BlockingWork
import FileIO
import Foundation
import Logging

/// The embedded object store: `<directory>/<key>`, durable before `put` returns.
///
/// Layout inside `directory`:
/// - `<key>`: the object's bytes, exactly as put;
/// - `.meta/metadata.sqlite`: every object's metadata (`ObjectMetadataTable`);
/// - `.meta/journal`: puts answered since the last checkpoint (`ObjectJournal`);
/// - `.tmp/`: files being written (emptied at start-up).
///
/// Keys never reach outside `directory` (see `ObjectKeyPath`). With group commit, a body
/// of at most `directCommitLimit` bytes, all in memory, is hashed by the caller (the putting
/// task, or the SMTP listener's event loop through `submit`) and goes straight to the
/// committer, which journals it and writes its object file after the journal sync (no temp
/// file before, no stager hop); the committer's thread calls `submit`'s completion. Other bodies: four stager batchers
/// copy them into temp files in parallel; one committer batcher makes them durable, all on
/// the blocking pool. With
/// `groupCommit`, the committer takes every staged put that queued up as one batch and
/// makes it durable with one `fdatasync` of the journal (bodies over
/// `journalBodyLimit` are synced in their own files, together), one metadata transaction
/// and renames; a checkpoint later syncs the object files at once. Without it, each put's
/// file is synced, its metadata committed and its directory fsync'd alone.
///
/// Opened with a `notificationQueue` (and group commit), the store also journals queue
/// notifications: `put(key:body:metadata:notification:)` makes the object and its
/// notification durable with the same journal `fdatasync`, and a `JournaledQueueWriter`
/// inserts the notification into that queue's table right after (see `ObjectCommitter`).
/// Replay at start-up restores both.
///
/// One process writes to a store (`.readWrite` holds `.meta/writer.lock`); others may open
/// it `.readOnly` to get objects. Whoever opens it while no writer runs first replays what
/// the journal still holds (`.meta/replay.lock` keeps that to one at a time).
public final class FileSystemObjectStore: NotifyingObjectStore {
    public enum Access: Sendable {
        case readWrite
        /// `get` only, for a process that runs beside the writer (`cis consume`).
        case readOnly
    }

    public let bucketName: String
    public let directory: String
    private let access: Access
    private let committer: Batcher<ObjectCommitter>
    private let stagers: [Batcher<ObjectStager>]
    private let writerLock: HeldLock?
    /// Inserts journaled notifications into the queue's table; nil without a notification queue.
    let notificationWriter: JournaledQueueWriter?
    private let nextStager = LockedCounter()
    /// `directCommitLimit` with group commit, nil without (every put then goes through a stager).
    private let directCommitBodyLimit: Int?
    /// Batches committed so far (tests check that concurrent puts share them).
    let commitBatches: LockedCounter
    /// Journal checkpoints done so far.
    let checkpoints: LockedCounter
    /// Records replayed from the journal when the store was opened.
    public let replayedRecords: Int
    private let reader: BlockingSerialQueue
    private let readerMetadata: MetadataReader

    static let metadataDirectoryName = ".meta"
    static let temporaryDirectoryName = ".tmp"
    /// Bodies up to this size go into the journal; larger ones are synced in their own file.
    public static let journalBodyLimit = 1024 * 1024
    /// In-memory bodies up to this size skip the stager: hashing them on the caller's thread is cheaper than a thread hop.
    static let directCommitLimit = 256 * 1024

    /// - Parameters:
    ///   - groupCommit: batch concurrent puts behind one journal sync (false: one fsync per put).
    ///   - checkpointBytes, checkpointInterval: how much the journal holds, and for how
    ///     long, before the object files are synced and it is emptied.
    ///   - notificationQueue: the queue whose notifications this store journals with the
    ///     objects (`put(key:body:metadata:notification:)`), and into whose table replay
    ///     restores them; nil: objects only.
    ///   - logger: where checkpoint failures are reported.
    public convenience init(
        directory: String, bucketName: String = "cis-local", access: Access = .readWrite, groupCommit: Bool = true,
        checkpointBytes: Int = 64 * 1024 * 1024, checkpointInterval: TimeInterval = 2,
        notificationQueue: SQLiteMessageQueue? = nil, logger: Logger = Logger(label: "cis.objects")
    ) throws {
        try self.init(
            directory: directory, bucketName: bucketName, access: access, groupCommit: groupCommit,
            checkpoints: ObjectCommitter.Checkpoints(bytes: checkpointBytes, interval: checkpointInterval, logger: logger),
            notificationQueue: notificationQueue)
    }

    init(
        directory: String, bucketName: String, access: Access, groupCommit: Bool, checkpoints checkpointPolicy: ObjectCommitter.Checkpoints,
        notificationQueue: SQLiteMessageQueue? = nil
    ) throws {
        let directory = directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        self.directory = directory
        self.bucketName = bucketName
        self.access = access
        let metadataDirectory = "\(directory)/\(Self.metadataDirectoryName)"
        let temporaryDirectory = "\(directory)/\(Self.temporaryDirectoryName)"
        let metadataPath = "\(metadataDirectory)/metadata.sqlite"
        let journalPath = "\(metadataDirectory)/\(ObjectJournal.fileName)"
        let writerMetadata: ObjectMetadataTable
        let journal: ObjectJournal?
        let notificationWriter: JournaledQueueWriter?
        do {
            notificationWriter = try notificationQueue.map { queue in
                try JournaledQueueWriter(
                    queuePath: queue.path, maxReceiveCount: queue.maxReceiveCount, onApplied: { queue.noteSentElsewhere() },
                    logger: checkpointPolicy.logger)
            }
            _ = try FileSystem.makeDirectories(directory)
            try FileSystem.makeDirectory(metadataDirectory)
            try FileSystem.makeDirectory(temporaryDirectory)
            try FileSystem.syncDirectory(directory)
            let replayLock = try FileDescriptor.open("\(metadataDirectory)/replay.lock", flags: O_RDWR | O_CREAT)
            _ = try replayLock.lockExclusively(wait: true)
            let writerLock = try FileDescriptor.open("\(metadataDirectory)/writer.lock", flags: O_RDWR | O_CREAT)
            let noWriterRuns = try writerLock.lockExclusively(wait: false)
            if access == .readWrite && !noWriterRuns {
                throw BackendError(
                    .unavailable, backend: "filesystem", operation: "open",
                    message: "\(directory) is in use by another cis process that writes to it (it holds .meta/writer.lock)")
            }
            writerMetadata = try ObjectMetadataTable(path: metadataPath, durableCommits: !groupCommit)
            self.readerMetadata = MetadataReader(table: try ObjectMetadataReader(path: metadataPath))
            if noWriterRuns {
                try Self.removeContents(of: temporaryDirectory)
                self.replayedRecords = try ObjectJournal.replay(
                    path: journalPath, directory: directory, temporaryDirectory: temporaryDirectory, metadata: writerMetadata,
                    notifications: notificationWriter)
            } else {
                self.replayedRecords = 0
            }
            journal = access == .readWrite && groupCommit ? try ObjectJournal(path: journalPath) : nil
            try FileSystem.syncDirectory(metadataDirectory)
            self.writerLock = access == .readWrite ? HeldLock(writerLock) : nil
            try replayLock.close()
        } catch let error as BackendError {
            throw error
        } catch {
            throw BackendError(.unavailable, backend: "filesystem", operation: "open", message: "\(error)")
        }
        self.notificationWriter = access == .readWrite && groupCommit ? notificationWriter : nil
        let commitBatches = LockedCounter()
        self.commitBatches = commitBatches
        let checkpoints = LockedCounter()
        self.checkpoints = checkpoints
        let temporaryFiles = TemporaryFileNames(directory: temporaryDirectory)
        let committer = Batcher<ObjectCommitter>(
            maximumBatchSize: groupCommit ? 512 : 1,
            handler: ObjectCommitter(
                directory: directory, metadata: writerMetadata, journal: journal, notifications: self.notificationWriter,
                checkpoints: checkpointPolicy, temporaryFiles: temporaryFiles,
                batches: commitBatches, checkpointCount: checkpoints))
        self.committer = committer
        self.stagers = (0..<4).map { index in
            Batcher(
                maximumBatchSize: 1,
                handler: ObjectStager(
                    temporaryFiles: temporaryFiles, committer: committer,
                    journalBodyLimit: groupCommit ? Self.journalBodyLimit : nil))
        }
        self.directCommitBodyLimit = access == .readWrite && groupCommit ? Self.directCommitLimit : nil
        self.reader = BlockingSerialQueue()
    }

    public func put(key: String, body: SegmentedBody, metadata: [String: String]) async throws -> StoredObject {
        try await withCheckedThrowingContinuation { continuation in
            self.stage(key: key, body: body, metadata: metadata, notification: nil) { continuation.resume(with: $0) }
        }
    }

    public var journalsNotifications: Bool { self.notificationWriter != nil }

    public func submit(
        key: String, body: SegmentedBody, metadata: [String: String], notification: @escaping @Sendable (StoredObject) throws -> String,
        completion: @escaping @Sendable (Result<StoredObject, any Error>) -> Void
    ) {
        guard self.journalsNotifications else {
            completion(
                .failure(
                    BackendError(
                        .invalidArgument, backend: "filesystem", operation: "put",
                        message: "\(self.directory) does not journal notifications (no queue, or no group commit)")))
            return
        }
        self.stage(key: key, body: body, metadata: metadata, notification: notification, completion: completion)
    }

    /// Hands the put to the committer (a small body in memory, hashed here) or to a stager;
    /// whichever finishes it calls `completion`.
    private func stage(
        key: String, body: SegmentedBody, metadata: [String: String], notification: (@Sendable (StoredObject) throws -> String)?,
        completion: @escaping @Sendable (Result<StoredObject, any Error>) -> Void
    ) {
        guard self.access == .readWrite else {
            completion(
                .failure(
                    BackendError(.invalidArgument, backend: "filesystem", operation: "put", message: "\(self.directory) was opened read-only")))
            return
        }
        let job = ObjectStager.Job(
            key: key, objectPath: self.objectPath(key), body: body, metadata: metadata, notification: notification, completion: completion)
        do {
            try ObjectKeyPath.validate(key, operation: "put")
            if let limit = self.directCommitBodyLimit, let bytes = body.inMemoryBytes(limit: limit) {
                self.committer.submit(.commit(try ObjectStager.stageInMemory(job, bytes: bytes)))
                return
            }
        } catch {
            completion(.failure(ObjectCommitter.backendError(error)))
            return
        }
        self.stagers[self.nextStager.next() % self.stagers.count].submit(job)
    }

    public func get(key: String) async throws -> FetchedObject {
        try ObjectKeyPath.validate(key, operation: "get")
        let objectPath = self.objectPath(key)
        let readerMetadata = self.readerMetadata
        return try await self.reader.run {
            let bytes: [UInt8]
            do {
                bytes = try FileDescriptor.open(objectPath, flags: O_RDONLY).readToEnd()
            } catch let error as SystemCallError where error.code == ENOENT || error.code == ENOTDIR {
                throw BackendError(.notFound, backend: "filesystem", operation: "get", message: "no object \(key.debugDescription)")
            } catch {
                throw BackendError(.unavailable, backend: "filesystem", operation: "get", message: "\(error)")
            }
            do {
                return FetchedObject(key: key, bytes: bytes, metadata: try readerMetadata.table.metadata(for: key))
            } catch {
                throw BackendError(.unavailable, backend: "filesystem", operation: "get", message: "metadata of \(key.debugDescription): \(error)")
            }
        }
    }

    /// Syncs every object file and empties the journal now, after the puts already
    /// answered (a clean shutdown: the next start has nothing to replay).
    /// Whether the last journal checkpoint succeeded; nil before the first one.
    public var lastCheckpointSucceeded: Bool? { BackendMetrics.lastCheckpointSucceeded(directory: self.directory) }

    public func checkpoint() async {
        await withCheckedContinuation { continuation in self.committer.submit(.checkpoint(continuation)) }
    }

    /// Where the object with this (valid) key lives.
    public func objectPath(_ key: String) -> String {
        "\(self.directory)/\(key)"
    }

    private static func removeContents(of directory: String) throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
            FileSystem.removeFile("\(directory)/\(name)")
        }
    }

    /// The writer lock, held open for the store's lifetime.
    private final class HeldLock: Sendable {
        // Sendable: the descriptor is only closed, by deinit.
        nonisolated(unsafe) let file: FileDescriptor
        init(_ file: FileDescriptor) { self.file = file }
    }

    /// The reader queue's metadata connection.
    private final class MetadataReader: @unchecked Sendable {
        // @unchecked: `table` is used only inside `reader.run`, one closure at a time.
        let table: ObjectMetadataReader
        init(table: ObjectMetadataReader) { self.table = table }
    }
}

/// A counter shared by tasks, for round-robin choices.
final class LockedCounter: @unchecked Sendable {
    // @unchecked: `value` is only touched with `lock` held.
    private let lock = NSLock()
    private var value = 0

    func next() -> Int {
        self.lock.lock()
        defer { self.lock.unlock() }
        self.value &+= 1
        return self.value & Int.max
    }

    var current: Int {
        self.lock.lock()
        defer { self.lock.unlock() }
        return self.value
    }
}
