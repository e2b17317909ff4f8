import Digest
import Foundation

/// A put whose bytes are in a temp file, not yet durable, on its way to the committer.
final class StagedObject: @unchecked Sendable {
    // @unchecked: created by a stager thread and from then on owned by the committer thread alone.
    let request: ObjectStager.Job
    let temp: FileDescriptor
    let size: Int
    let eTag: String
    /// `request.metadata` encoded once, here, for both the journal and the metadata table.
    let metadataJSON: String
    /// The bytes, kept for the journal when the body is small enough to go there.
    let journalBody: [UInt8]?

    init(request: ObjectStager.Job, temp: FileDescriptor, size: Int, eTag: String, metadataJSON: String, journalBody: [UInt8]?) {
        self.request = request
        self.temp = temp
        self.size = size
        self.eTag = eTag
        self.metadataJSON = metadataJSON
        self.journalBody = journalBody
    }
}

/// Copies each put's body into a temp file (computing its MD5 on the way) on one of the
/// store's stager threads, then hands it to the committer thread. Bodies up to
/// `journalBodyLimit` are also kept in memory for the committer's journal.
final class ObjectStager: BatchHandler {
    struct Job: Sendable {
        var key: String
        var objectPath: String
        var body: ObjectBody
        var metadata: [String: String]
        var continuation: CheckedContinuation<StoredObject, any Error>
    }

    private let temporaryDirectory: String
    private let committer: BatchingThread<ObjectCommitter>
    private let journalBodyLimit: Int?
    private static let copyChunkSize = 256 * 1024

    init(temporaryDirectory: String, committer: BatchingThread<ObjectCommitter>, journalBodyLimit: Int?) {
        self.temporaryDirectory = temporaryDirectory
        self.committer = committer
        self.journalBodyLimit = journalBodyLimit
    }

    func run(_ jobs: [Job]) {
        for job in jobs {
            let temp: FileDescriptor
            do {
                temp = try FileDescriptor.open(
                    "\(self.temporaryDirectory)/\(Digest.randomBytes(12).hexString)", flags: O_WRONLY | O_CREAT | O_EXCL)
            } catch {
                job.continuation.resume(throwing: ObjectCommitter.backendError(error))
                continue
            }
            do {
                let hasher = Hasher(.md5)
                var kept: [UInt8]? = self.journalBodyLimit.map { job.body.count <= $0 } == true ? [] : nil
                kept?.reserveCapacity(job.body.count)
                try self.write(job.body, to: temp, hasher: hasher, keeping: &kept)
                let metadataJSON = try ObjectMetadataTable.encode(job.metadata)
                self.committer.submit(
                    .commit(
                        StagedObject(
                            request: job, temp: temp, size: job.body.count, eTag: hasher.finalize().hexString,
                            metadataJSON: metadataJSON, journalBody: kept)))
            } catch {
                FileSystem.removeFile(temp.path)
                job.continuation.resume(throwing: ObjectCommitter.backendError(error))
            }
        }
    }

    func nextWakeUp() -> Date? { nil }

    func refuse(_ jobs: [Job]) {
        for job in jobs { job.continuation.resume(throwing: ObjectCommitter.closedError) }
    }

    func shutDown() {}

    /// Copies the body's segments into `file`, streaming file segments in chunks, and
    /// appends them to `kept` unless it is nil.
    private func write(_ body: ObjectBody, to file: FileDescriptor, hasher: Hasher, keeping kept: inout [UInt8]?) throws {
        for segment in body.segments {
            switch segment {
            case .bytes(let bytes):
                hasher.update(bytes)
                try file.writeAll(bytes)
                kept?.append(contentsOf: bytes)
            case .file(let path, let offset, let length):
                let source = try FileDescriptor.open(path, flags: O_RDONLY)
                var chunk = [UInt8](repeating: 0, count: min(Self.copyChunkSize, max(length, 1)))
                var copied = 0
                while copied < length {
                    let wanted = min(chunk.count, length - copied)
                    let count = try chunk.withUnsafeMutableBytes {
                        try source.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<wanted]), at: offset + copied)
                    }
                    guard count > 0 else {
                        throw BackendError(
                            .invalidArgument, backend: "filesystem", operation: "put",
                            message: "\(path) ended after \(copied) of \(length) bytes at offset \(offset)")
                    }
                    try chunk.withUnsafeBytes { buffer in
                        let piece = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
                        hasher.update(piece)
                        try file.writeAll(piece)
                        kept?.append(contentsOf: piece)
                    }
                    copied += count
                }
                try source.close()
            }
        }
    }
}
