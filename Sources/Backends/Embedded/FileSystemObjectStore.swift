import Foundation

/// The embedded object store: `<directory>/<key>`, durable before `put` returns.
///
/// Layout inside `directory`:
/// - `<key>`: the object's bytes;
/// - `.meta/<key>.json`: its metadata, a JSON object of strings;
/// - `.tmp/`: files being written (removed at start-up).
///
/// Keys never reach outside `directory` (see `ObjectKeyPath`). Puts run on four writer
/// threads. With `groupCommit`, each writer takes every put that queued up for it as one
/// batch (writeback of all its files started at once, their `fdatasync`s issued together,
/// one fsync per directory); without it, each put is written and synced alone.
public final class FileSystemObjectStore: ObjectStore {
    public let bucketName: String
    public let directory: String
    private let writers: [BatchingThread<ObjectWriteBatch>]
    private let nextWriter = LockedCounter()
    private let reader: BlockingExecutor

    static let metadataDirectoryName = ".meta"
    static let temporaryDirectoryName = ".tmp"

    public init(directory: String, bucketName: String = "cis-local", groupCommit: Bool = true) throws {
        let directory = directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        self.directory = directory
        self.bucketName = bucketName
        let temporaryDirectory = "\(directory)/\(Self.temporaryDirectoryName)"
        do {
            _ = try FileSystem.makeDirectories(directory)
            try FileSystem.makeDirectory("\(directory)/\(Self.metadataDirectoryName)")
            try FileSystem.makeDirectory(temporaryDirectory)
            try FileSystem.syncDirectory(directory)
            try Self.removeContents(of: temporaryDirectory)
        } catch {
            throw BackendError(.unavailable, backend: "filesystem", operation: "open", message: "\(error)")
        }
        self.writers = (0..<4).map { index in
            BatchingThread(
                name: "cis-objects-\(index)", maximumBatchSize: groupCommit ? 512 : 1,
                handler: ObjectWriteBatch(temporaryDirectory: temporaryDirectory))
        }
        self.reader = BlockingExecutor(name: "cis-objects-reader")
    }

    public func put(key: String, body: ObjectBody, metadata: [String: String]) async throws -> StoredObject {
        _ = try ObjectKeyPath.components(of: key, backend: "filesystem", operation: "put")
        let writer = self.writers[self.nextWriter.next() % self.writers.count]
        return try await withCheckedThrowingContinuation { continuation in
            writer.submit(
                ObjectWriteBatch.Job(
                    key: key, objectPath: self.objectPath(key), metadataPath: self.metadataPath(key),
                    body: body, metadata: metadata, continuation: continuation))
        }
    }

    public func get(key: String) async throws -> FetchedObject {
        _ = try ObjectKeyPath.components(of: key, backend: "filesystem", operation: "get")
        let objectPath = self.objectPath(key)
        let metadataPath = self.metadataPath(key)
        return try await self.reader.run {
            let bytes: [UInt8]
            do {
                bytes = try FileDescriptor.open(objectPath, flags: O_RDONLY).readToEnd()
            } catch let error as POSIXError where error.code == ENOENT || error.code == ENOTDIR {
                throw BackendError(.notFound, backend: "filesystem", operation: "get", message: "no object \(key.debugDescription)")
            } catch {
                throw BackendError(.unavailable, backend: "filesystem", operation: "get", message: "\(error)")
            }
            let metadata: [String: String]
            do {
                metadata = try ObjectMetadataFile.decode(try FileDescriptor.open(metadataPath, flags: O_RDONLY).readToEnd())
            } catch let error as POSIXError where error.code == ENOENT {
                metadata = [:]
            } catch {
                throw BackendError(.unavailable, backend: "filesystem", operation: "get", message: "metadata of \(key.debugDescription): \(error)")
            }
            return FetchedObject(key: key, bytes: bytes, metadata: metadata)
        }
    }

    /// Where the object with this (validated) key lives.
    public func objectPath(_ key: String) -> String {
        "\(self.directory)/\(key)"
    }

    func metadataPath(_ key: String) -> String {
        "\(self.directory)/\(Self.metadataDirectoryName)/\(key).json"
    }

    private static func removeContents(of directory: String) throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
            FileSystem.removeFile("\(directory)/\(name)")
        }
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
}
