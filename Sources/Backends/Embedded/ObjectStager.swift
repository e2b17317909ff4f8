import BlockingWork
import Digest
import FileIO
import Foundation

/// A put on its way to the committer, not yet durable: its bytes in a temp file, or (a small
/// body in memory) only in `journalBody`, for the committer to write after the journal sync.
final class StagedObject: @unchecked Sendable {
    // @unchecked: created by a stager's batch (or the caller of the put) and from then on owned by the committer's batches alone.
    let request: ObjectStager.Job
    /// nil: the body is only in `journalBody`.
    let temp: FileDescriptor?
    let size: Int
    let eTag: String
    /// `request.metadata` encoded once, here, for both the journal and the metadata table.
    let metadataJSON: String
    /// The bytes, kept for the journal when the body is small enough to go there.
    let journalBody: [UInt8]?
    /// The queue notification for the journal record, when the put has one.
    let notification: JournaledNotification?

    init(
        request: ObjectStager.Job, temp: FileDescriptor?, size: Int, eTag: String, metadataJSON: String, journalBody: [UInt8]?,
        notification: JournaledNotification?
    ) {
        self.request = request
        self.temp = temp
        self.size = size
        self.eTag = eTag
        self.metadataJSON = metadataJSON
        self.journalBody = journalBody
        self.notification = notification
    }
}

/// Copies each put's body into a temp file (computing its MD5 on the way) in one of the
/// store's stager batchers, then hands it to the committer's batcher. Bodies up to
/// `journalBodyLimit` are also kept in memory for the committer's journal. A put with a
/// notification gets its body here, once the object's size and ETag are known.
final class ObjectStager: BatchHandler {
    struct Job: Sendable {
        var key: String
        var objectPath: String
        var body: SegmentedBody
        var metadata: [String: String]
        /// The queue notification's body for the stored object (journaled with it), if any.
        var notification: (@Sendable (StoredObject) throws -> String)?
        /// Called once, on the thread that finished the put: with the object once it is durable.
        var completion: @Sendable (Result<StoredObject, any Error>) -> Void
    }

    private let temporaryFiles: TemporaryFileNames
    private let committer: Batcher<ObjectCommitter>
    private let journalBodyLimit: Int?
    private static let copyChunkSize = 256 * 1024

    init(temporaryFiles: TemporaryFileNames, committer: Batcher<ObjectCommitter>, journalBodyLimit: Int?) {
        self.temporaryFiles = temporaryFiles
        self.committer = committer
        self.journalBodyLimit = journalBodyLimit
    }

    /// A small body already in memory, staged by the caller of the put on its own thread: hashed, no temp
    /// file; the committer journals it and then writes its object file.
    static func stageInMemory(_ job: Job, bytes: [UInt8]) throws -> StagedObject {
        try self.staged(job, temp: nil, eTag: Digest.md5(bytes).hexString, journalBody: bytes)
    }

    /// The put's metadata encoded and its notification made, once its size and ETag are known.
    private static func staged(_ job: Job, temp: FileDescriptor?, eTag: String, journalBody: [UInt8]?) throws -> StagedObject {
        let metadataJSON = ObjectMetadataTable.encode(job.metadata)
        let notification = try job.notification.map { makeBody in
            let body = try makeBody(StoredObject(key: job.key, size: job.body.count, eTag: eTag))
            guard body.utf8.count <= SQLiteMessageQueue.maximumBodySize else {
                throw BackendError(
                    .invalidArgument, backend: "filesystem", operation: "put",
                    message: "notification of \(body.utf8.count) bytes is over \(SQLiteMessageQueue.maximumBodySize)")
            }
            return JournaledNotification(messageId: Digest.randomUUID().uuidString.lowercased(), body: body)
        }
        return StagedObject(
            request: job, temp: temp, size: job.body.count, eTag: eTag, metadataJSON: metadataJSON, journalBody: journalBody,
            notification: notification)
    }

    func run(_ jobs: [Job]) {
        for job in jobs {
            let temp: FileDescriptor
            do {
                temp = try FileDescriptor.open(self.temporaryFiles.next(), flags: O_WRONLY | O_CREAT | O_EXCL)
            } catch {
                job.completion(.failure(ObjectCommitter.backendError(error)))
                continue
            }
            do {
                let hasher = DigestHasher(.md5)
                var kept: [UInt8]? = self.journalBodyLimit.map { job.body.count <= $0 } == true ? [] : nil
                kept?.reserveCapacity(job.body.count)
                try self.write(job.body, to: temp, hasher: hasher, keeping: &kept)
                self.committer.submit(.commit(try Self.staged(job, temp: temp, eTag: hasher.finalize().hexString, journalBody: kept)))
            } catch {
                FileSystem.removeFile(temp.path)
                job.completion(.failure(ObjectCommitter.backendError(error)))
            }
        }
    }

    func nextWakeUp() -> Date? { nil }

    func refuse(_ jobs: [Job]) {
        for job in jobs { job.completion(.failure(ObjectCommitter.closedError)) }
    }

    func shutDown() {}

    /// Copies the body into `file`, streaming file segments in chunks, and appends it to
    /// `kept` unless that is nil.
    private func write(_ body: SegmentedBody, to file: FileDescriptor, hasher: DigestHasher, keeping kept: inout [UInt8]?) throws {
        do {
            try SegmentedBodyReader.forEachChunk(of: body, chunkSize: Self.copyChunkSize) { chunk in
                hasher.update(chunk)
                try file.writeAll(chunk)
                kept?.append(contentsOf: chunk)
            }
        } catch let error as SegmentedBodyReader.ShortFileError {
            throw BackendError(.invalidArgument, backend: "filesystem", operation: "put", message: error.description)
        }
    }
}
