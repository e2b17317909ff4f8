import Digest
import Foundation

/// Writes batches of objects for `FileSystemObjectStore` on its writer thread.
///
/// Per batch: every object and its metadata go to temp files (MD5 computed while
/// writing), all of them are `fdatasync`ed at once (concurrent syncs share journal
/// commits), metadata then object are renamed into place, and each parent directory
/// touched is fsync'd once. A job is answered only after all of that succeeded for it.
final class ObjectWriteBatch: BatchHandler {
    struct Job: Sendable {
        var key: String
        var objectPath: String
        var metadataPath: String
        var body: ObjectBody
        var metadata: [String: String]
        var continuation: CheckedContinuation<StoredObject, any Error>
    }

    /// One job whose temp files are written but not yet durable.
    private final class Staged {
        let job: Job
        let objectTemp: FileDescriptor
        let metadataTemp: FileDescriptor
        let size: Int
        let eTag: String
        var directoriesToSync: Set<String>

        init(job: Job, objectTemp: FileDescriptor, metadataTemp: FileDescriptor, size: Int, eTag: String, directoriesToSync: Set<String>) {
            self.job = job
            self.objectTemp = objectTemp
            self.metadataTemp = metadataTemp
            self.size = size
            self.eTag = eTag
            self.directoriesToSync = directoriesToSync
        }

        func removeTemps() {
            FileSystem.removeFile(self.objectTemp.path)
            FileSystem.removeFile(self.metadataTemp.path)
        }
    }

    private let temporaryDirectory: String
    /// Directories known to exist, so that a put does not re-create its parents each time.
    /// Forgotten after any failure, in case the tree changed underneath.
    private var existingDirectories: Set<String> = []
    private static let copyChunkSize = 256 * 1024

    init(temporaryDirectory: String) {
        self.temporaryDirectory = temporaryDirectory
    }

    func run(_ jobs: [Job]) {
        var staged: [Staged] = []
        for job in jobs {
            do {
                staged.append(try self.stage(job))
            } catch {
                self.existingDirectories = []
                job.continuation.resume(throwing: Self.backendError(error))
            }
        }
        let files = staged.flatMap { [$0.objectTemp, $0.metadataTemp] }
        let syncErrors = FileSystem.dataSyncAll(files)
        staged = staged.enumerated().compactMap { index, item in
            do {
                if let error = syncErrors[2 * index] ?? syncErrors[2 * index + 1] { throw error }
                try item.objectTemp.close()
                try item.metadataTemp.close()
                try FileSystem.rename(item.metadataTemp.path, to: item.job.metadataPath)
                try FileSystem.rename(item.objectTemp.path, to: item.job.objectPath)
                return item
            } catch {
                self.existingDirectories = []
                item.removeTemps()
                item.job.continuation.resume(throwing: Self.backendError(error))
                return nil
            }
        }
        let directories = Array(Set(staged.flatMap(\.directoriesToSync)))
        let directoryErrors = FileSystem.syncDirectories(directories)
        for item in staged {
            if let error = item.directoriesToSync.lazy.compactMap({ directoryErrors[$0] }).first {
                self.existingDirectories = []
                item.job.continuation.resume(throwing: Self.backendError(error))
            } else {
                item.job.continuation.resume(returning: StoredObject(key: item.job.key, size: item.size, eTag: item.eTag))
            }
        }
    }

    func nextWakeUp() -> Date? { nil }

    func refuse(_ jobs: [Job]) {
        for job in jobs {
            job.continuation.resume(
                throwing: BackendError(.unavailable, backend: "filesystem", operation: "put", message: "object store closed"))
        }
    }

    func shutDown() {}

    /// Writes the job's object and metadata to temp files (not yet durable).
    private func stage(_ job: Job) throws -> Staged {
        var directoriesToSync: Set<String> = []
        for path in [job.objectPath, job.metadataPath] {
            let parent = FileSystem.parent(of: path)
            directoriesToSync.insert(parent)
            if !self.existingDirectories.contains(parent) {
                directoriesToSync.formUnion(try FileSystem.makeDirectories(parent))
                self.existingDirectories.insert(parent)
            }
        }
        let objectTemp = try self.createTemp()
        let metadataTemp: FileDescriptor
        let hasher = Hasher(.md5)
        do {
            try self.write(job.body, to: objectTemp, hasher: hasher)
            metadataTemp = try self.createTemp()
        } catch {
            FileSystem.removeFile(objectTemp.path)
            throw error
        }
        do {
            try metadataTemp.writeAll(try ObjectMetadataFile.encode(job.metadata))
        } catch {
            FileSystem.removeFile(objectTemp.path)
            FileSystem.removeFile(metadataTemp.path)
            throw error
        }
        return Staged(
            job: job, objectTemp: objectTemp, metadataTemp: metadataTemp, size: job.body.count,
            eTag: hasher.finalize().hexString, directoriesToSync: directoriesToSync)
    }

    private func createTemp() throws -> FileDescriptor {
        let name = Digest.randomBytes(12).hexString
        return try FileDescriptor.open("\(self.temporaryDirectory)/\(name)", flags: O_WRONLY | O_CREAT | O_EXCL)
    }

    /// Copies the body's segments into `file`, streaming file segments in chunks.
    private func write(_ body: ObjectBody, to file: FileDescriptor, hasher: Hasher) throws {
        for segment in body.segments {
            switch segment {
            case .bytes(let bytes):
                hasher.update(bytes)
                try file.writeAll(bytes)
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
                    }
                    copied += count
                }
                try source.close()
            }
        }
    }

    static func backendError(_ error: any Error) -> BackendError {
        if let error = error as? BackendError { return error }
        return BackendError(.unavailable, backend: "filesystem", operation: "put", message: "\(error)")
    }
}

/// The metadata sidecar: a JSON object of strings, keys sorted.
enum ObjectMetadataFile {
    static func encode(_ metadata: [String: String]) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(metadata))
    }

    static func decode(_ bytes: [UInt8]) throws -> [String: String] {
        try JSONDecoder().decode([String: String].self, from: Data(bytes))
    }
}
