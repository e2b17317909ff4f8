import BlockingWork
import FileIO
import Foundation
import NIOCore

/// A private temporary file holding the text of one large message while it arrives. Every
/// disk call runs on the blocking pool, so a slow disk holds neither an event loop nor a
/// thread of the cooperative pool.
final class SpoolFile: @unchecked Sendable {
    // @unchecked: it belongs to the one connection task writing it, which awaits each call
    // before the next, so `file` and `size` are never touched by two threads at once.
    static let namePrefix = "cis-spool-"

    let path: String
    private let file: FileIO.FileDescriptor
    private(set) var size = 0

    private init(file: FileIO.FileDescriptor) {
        self.file = file
        self.path = file.path
    }

    /// Creates `<directory>/cis-spool-XXXXXX`, readable by the owner only.
    static func create(in directory: String) async throws -> SpoolFile {
        let file = try await BlockingPool.run {
            SpoolFile(file: try FileIO.FileDescriptor.createUnique(in: directory, prefix: Self.namePrefix))
        }
        return file
    }

    func write(_ bytes: [UInt8]) async throws {
        try await BlockingPool.run { try self.file.writeAll(bytes) }
        self.size += bytes.count
    }

    func write(_ text: ByteBuffer) async throws {
        try await BlockingPool.run { try text.withUnsafeReadableBytes { try self.file.writeAll($0) } }
        self.size += text.readableBytes
    }

    /// Closes the descriptor; the file stays until `remove()`.
    func close() async {
        _ = try? await BlockingPool.run { try self.file.close() }
    }

    func remove() async {
        await BlockingPool.run {
            try? self.file.close()
            FileSystem.removeFile(self.path)
        }
    }

    /// Deletes spool files left by a previous run: their messages were never acknowledged.
    /// Called once at start-up, before connections are accepted.
    static func removeLeftovers(in directory: String) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names where name.hasPrefix(Self.namePrefix) {
            FileSystem.removeFile("\(directory)/\(name)")
        }
    }
}
