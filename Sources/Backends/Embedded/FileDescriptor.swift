import CFileSync
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The failure of one POSIX call, with its path and errno text.
struct POSIXError: Error, CustomStringConvertible {
    var call: String
    var path: String
    var code: Int32

    init(_ call: String, path: String, code: Int32 = errno) {
        self.call = call
        self.path = path
        self.code = code
    }

    var description: String { "\(self.call)(\(self.path)): \(String(cString: strerror(self.code)))" }
}

/// An open file descriptor, closed in `deinit`. Used by one thread at a time.
final class FileDescriptor {
    let path: String
    private(set) var rawValue: Int32

    private init(rawValue: Int32, path: String) {
        self.rawValue = rawValue
        self.path = path
    }

    deinit {
        if self.rawValue >= 0 { _ = Glibc.close(self.rawValue) }
    }

    static func open(_ path: String, flags: Int32, mode: mode_t = 0o640) throws -> FileDescriptor {
        let fd = path.withCString { Glibc.open($0, flags | O_CLOEXEC, mode) }
        guard fd >= 0 else { throw POSIXError("open", path: path) }
        return FileDescriptor(rawValue: fd, path: path)
    }

    static func openDirectory(_ path: String) throws -> FileDescriptor {
        try self.open(path, flags: O_RDONLY | O_DIRECTORY)
    }

    /// Writes every byte, retrying short writes and EINTR.
    func writeAll(_ buffer: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < buffer.count {
            let written = Glibc.write(self.rawValue, buffer.baseAddress! + offset, buffer.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw POSIXError("write", path: self.path)
            }
            offset += written
        }
    }

    func writeAll(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try self.writeAll($0) }
    }

    /// Reads up to `buffer.count` bytes at `offset`; 0 at end of file.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws -> Int {
        while true {
            let count = Glibc.pread(self.rawValue, buffer.baseAddress!, buffer.count, off_t(offset))
            if count >= 0 { return count }
            if errno != EINTR { throw POSIXError("pread", path: self.path) }
        }
    }

    /// The whole file from its start.
    func readToEnd() throws -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var offset = 0
        while true {
            let count = try chunk.withUnsafeMutableBytes { try self.read(into: $0, at: offset) }
            if count == 0 { return result }
            result.append(contentsOf: chunk[0..<count])
            offset += count
        }
    }

    /// Writes every byte at `offset`, retrying short writes and EINTR.
    func writeAll(_ bytes: [UInt8], at offset: Int) throws {
        try bytes.withUnsafeBytes { buffer in
            var written = 0
            while written < buffer.count {
                let count = Glibc.pwrite(self.rawValue, buffer.baseAddress! + written, buffer.count - written, off_t(offset + written))
                if count < 0 {
                    if errno == EINTR { continue }
                    throw POSIXError("pwrite", path: self.path)
                }
                written += count
            }
        }
    }

    /// Reads exactly `count` bytes at `offset`; nil when the file ends first.
    func read(count: Int, at offset: Int) throws -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let read = try bytes.withUnsafeMutableBytes {
                try self.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[filled...]), at: offset + filled)
            }
            if read == 0 { return nil }
            filled += read
        }
        return bytes
    }

    /// `flock`s the file exclusively; without `wait`, returns false when another open file
    /// description holds it. Released when the descriptor closes.
    func lockExclusively(wait: Bool) throws -> Bool {
        while cfilesync_flock(self.rawValue, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0 {
            if errno == EINTR { continue }
            if errno == EWOULDBLOCK { return false }
            throw POSIXError("flock", path: self.path)
        }
        return true
    }

    func truncate(to length: Int) throws {
        guard ftruncate(self.rawValue, off_t(length)) == 0 else { throw POSIXError("ftruncate", path: self.path) }
    }

    func size() throws -> Int {
        var info = stat()
        guard fstat(self.rawValue, &info) == 0 else { throw POSIXError("fstat", path: self.path) }
        return Int(info.st_size)
    }

    func sync() throws {
        guard fsync(self.rawValue) == 0 else { throw POSIXError("fsync", path: self.path) }
    }

    func dataSync() throws {
        guard fdatasync(self.rawValue) == 0 else { throw POSIXError("fdatasync", path: self.path) }
    }

    func close() throws {
        let fd = self.rawValue
        self.rawValue = -1
        guard Glibc.close(fd) == 0 else { throw POSIXError("close", path: self.path) }
    }

    /// Device and inode, to notice a path that now names another file.
    func identity() throws -> FileIdentity {
        var info = stat()
        guard fstat(self.rawValue, &info) == 0 else { throw POSIXError("fstat", path: self.path) }
        return FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }
}

struct FileIdentity: Equatable, Sendable {
    var device: UInt64
    var inode: UInt64

    /// The identity of what `path` names now, following symbolic links; nil when nothing.
    static func of(path: String) -> FileIdentity? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }
}

/// Directory operations on paths.
enum FileSystem {
    /// fsyncs a directory, making the renames and creations inside it durable.
    static func syncDirectory(_ path: String) throws {
        let directory = try FileDescriptor.openDirectory(path)
        try directory.sync()
        try directory.close()
    }

    /// `syncfs(2)` on the file system holding `path`: every file's data and metadata on it,
    /// written back and flushed in one call (errors of writeback reported since Linux 5.8).
    static func syncFileSystem(containing path: String) throws {
        let directory = try FileDescriptor.openDirectory(path)
        guard cfilesync_syncfs(directory.rawValue) == 0 else { throw POSIXError("syncfs", path: path) }
        try directory.close()
    }

    /// Creates `path` if missing. Returns whether it was created (its parent then needs an fsync).
    @discardableResult
    static func makeDirectory(_ path: String) throws -> Bool {
        if path.withCString({ mkdir($0, 0o750) }) == 0 { return true }
        let code = errno
        guard code == EEXIST else { throw POSIXError("mkdir", path: path, code: code) }
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw POSIXError("mkdir", path: path, code: ENOTDIR)
        }
        return false
    }

    /// Creates `path` and any missing parents; returns the parents whose entries changed.
    static func makeDirectories(_ path: String) throws -> [String] {
        var changedParents: [String] = []
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            let parent = current.isEmpty ? "/" : current
            current = current.isEmpty ? "/\(component)" : "\(current)/\(component)"
            if try self.makeDirectory(current) { changedParents.append(parent) }
        }
        return changedParents
    }

    /// `fdatasync`s every file and returns each one's error. Writeback of all of them is
    /// started first (`POSIX_FADV_DONTNEED` starts it without waiting), so that their blocks
    /// are allocated in one journal transaction: the first sync commits it, and the syncs
    /// after it, run from several threads at once, find little left to wait for.
    static func dataSyncAll(_ files: [FileDescriptor]) -> [(any Error)?] {
        let descriptors = files.map { ($0.rawValue, $0.path) }
        for (descriptor, _) in descriptors {
            _ = posix_fadvise(descriptor, 0, 0, POSIX_FADV_DONTNEED)
        }
        return self.concurrently(descriptors.count) { index in
            let (descriptor, path) = descriptors[index]
            guard fdatasync(descriptor) == 0 else { throw POSIXError("fdatasync", path: path) }
        }
    }

    /// fsyncs every directory at once; returns the ones that failed with their error.
    static func syncDirectories(_ paths: [String]) -> [String: any Error] {
        let errors = self.concurrently(paths.count) { try self.syncDirectory(paths[$0]) }
        var failed: [String: any Error] = [:]
        for (path, error) in zip(paths, errors) where error != nil { failed[path] = error }
        return failed
    }

    /// Runs `body` for each index on Dispatch's worker threads at once; returns each error.
    private static func concurrently(_ count: Int, _ body: @Sendable (Int) throws -> Void) -> [(any Error)?] {
        let results = ConcurrentErrors(count: count)
        DispatchQueue.concurrentPerform(iterations: count) { index in
            do {
                try body(index)
            } catch {
                results.set(error, at: index)
            }
        }
        return results.errors
    }

    /// Errors collected from concurrent work.
    private final class ConcurrentErrors: @unchecked Sendable {
        // @unchecked: `storage` is only touched with `lock` held.
        private let lock = NSLock()
        private var storage: [(any Error)?]

        init(count: Int) {
            self.storage = Array(repeating: nil, count: count)
        }

        func set(_ error: any Error, at index: Int) {
            self.lock.lock()
            self.storage[index] = error
            self.lock.unlock()
        }

        var errors: [(any Error)?] {
            self.lock.lock()
            defer { self.lock.unlock() }
            return self.storage
        }
    }

    static func rename(_ from: String, to destination: String) throws {
        guard Glibc.rename(from, destination) == 0 else { throw POSIXError("rename", path: destination) }
    }

    static func removeFile(_ path: String) {
        _ = unlink(path)
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
