import CFileSync

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open file descriptor, closed in `deinit`.
///
/// Not `Sendable`: used by one thread at a time. Every call blocks, so callers run it on
/// the blocking pool (`BlockingWork`), never on an event loop or the cooperative pool.
public final class FileDescriptor {
    public let path: String
    public private(set) var rawValue: Int32
    /// False for the process's standard streams, which `deinit` leaves open.
    private let owned: Bool

    private init(rawValue: Int32, path: String, owned: Bool = true) {
        self.rawValue = rawValue
        self.path = path
        self.owned = owned
    }

    deinit {
        if self.owned && self.rawValue >= 0 { _ = Glibc.close(self.rawValue) }
    }

    /// This process's standard input and output (a pipe or terminal: read and write them
    /// with the calls without an offset).
    public static func standardInput() -> FileDescriptor { FileDescriptor(rawValue: 0, path: "standard input", owned: false) }
    public static func standardOutput() -> FileDescriptor { FileDescriptor(rawValue: 1, path: "standard output", owned: false) }

    public static func open(_ path: String, flags: Int32, mode: mode_t = 0o640) throws -> FileDescriptor {
        let fd = path.withCString { Glibc.open($0, flags | O_CLOEXEC, mode) }
        guard fd >= 0 else { throw SystemCallError("open", path: path) }
        return FileDescriptor(rawValue: fd, path: path)
    }

    public static func openDirectory(_ path: String) throws -> FileDescriptor {
        try self.open(path, flags: O_RDONLY | O_DIRECTORY)
    }

    /// Creates `<directory>/<prefix>XXXXXX` (`mkstemp(3)`), readable and writable by the owner only.
    public static func createUnique(in directory: String, prefix: String) throws -> FileDescriptor {
        var template = Array("\(directory)/\(prefix)XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw SystemCallError("mkstemp", path: "\(directory)/\(prefix)XXXXXX") }
        let path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return FileDescriptor(rawValue: fd, path: path)
    }

    /// Writes every byte, retrying short writes and EINTR.
    public func writeAll(_ buffer: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < buffer.count {
            let written = Glibc.write(self.rawValue, buffer.baseAddress! + offset, buffer.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw SystemCallError("write", path: self.path)
            }
            offset += written
        }
    }

    public func writeAll(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try self.writeAll($0) }
    }

    /// Writes every byte at `offset`, retrying short writes and EINTR.
    public func writeAll(_ bytes: [UInt8], at offset: Int) throws {
        try bytes.withUnsafeBytes { buffer in
            var written = 0
            while written < buffer.count {
                let count = Glibc.pwrite(self.rawValue, buffer.baseAddress! + written, buffer.count - written, off_t(offset + written))
                if count < 0 {
                    if errno == EINTR { continue }
                    throw SystemCallError("pwrite", path: self.path)
                }
                written += count
            }
        }
    }

    /// Reads up to `buffer.count` bytes from the current position; 0 at end of file.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let count = Glibc.read(self.rawValue, buffer.baseAddress!, buffer.count)
            if count >= 0 { return count }
            if errno != EINTR { throw SystemCallError("read", path: self.path) }
        }
    }

    /// Reads exactly `count` bytes from the current position (a pipe's short reads joined);
    /// nil when the input ends before the first byte, `TruncatedRead` when it ends after it.
    public func read(exactly count: Int) throws -> [UInt8]? {
        let (bytes, filled) = try self.fill(count) { buffer, _ in try self.read(into: buffer) }
        if filled == count { return bytes }
        if filled == 0 { return nil }
        throw TruncatedRead(path: self.path, expected: count, received: filled)
    }

    public struct TruncatedRead: Error, Equatable, CustomStringConvertible {
        public var path: String
        public var expected: Int
        public var received: Int
        public init(path: String, expected: Int, received: Int) {
            self.path = path
            self.expected = expected
            self.received = received
        }
        public var description: String { "\(self.path) ended after \(self.received) of \(self.expected) bytes" }
    }

    /// Reads up to `buffer.count` bytes at `offset`; 0 at end of file.
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws -> Int {
        while true {
            let count = Glibc.pread(self.rawValue, buffer.baseAddress!, buffer.count, off_t(offset))
            if count >= 0 { return count }
            if errno != EINTR { throw SystemCallError("pread", path: self.path) }
        }
    }

    /// Reads exactly `count` bytes at `offset`; nil when the file ends first.
    public func read(count: Int, at offset: Int) throws -> [UInt8]? {
        let (bytes, filled) = try self.fill(count) { buffer, filled in try self.read(into: buffer, at: offset + filled) }
        return filled == count ? bytes : nil
    }

    /// `count` bytes gathered by `read` (given the rest of the buffer and the bytes so far),
    /// until it returns 0; `filled` is less than `count` then.
    private func fill(
        _ count: Int, _ read: (UnsafeMutableRawBufferPointer, Int) throws -> Int
    ) rethrows -> (bytes: [UInt8], filled: Int) {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = try bytes.withUnsafeMutableBytes { try read(UnsafeMutableRawBufferPointer(rebasing: $0[filled...]), filled) }
            if got == 0 { break }
            filled += got
        }
        return (bytes, filled)
    }

    /// The whole file from its start.
    public func readToEnd() throws -> [UInt8] {
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

    /// `flock`s the file exclusively; without `wait`, returns false when another open file
    /// description holds it. Released when the descriptor closes.
    public func lockExclusively(wait: Bool) throws -> Bool {
        while cfilesync_flock(self.rawValue, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0 {
            if errno == EINTR { continue }
            if errno == EWOULDBLOCK { return false }
            throw SystemCallError("flock", path: self.path)
        }
        return true
    }

    /// Releases a `lockExclusively` lock before the descriptor closes.
    public func unlock() throws {
        while cfilesync_flock(self.rawValue, LOCK_UN) != 0 {
            if errno == EINTR { continue }
            throw SystemCallError("flock", path: self.path)
        }
    }

    public func truncate(to length: Int) throws {
        guard ftruncate(self.rawValue, off_t(length)) == 0 else { throw SystemCallError("ftruncate", path: self.path) }
    }

    public func size() throws -> Int {
        var info = stat()
        guard fstat(self.rawValue, &info) == 0 else { throw SystemCallError("fstat", path: self.path) }
        return Int(info.st_size)
    }

    public func sync() throws {
        guard fsync(self.rawValue) == 0 else { throw SystemCallError("fsync", path: self.path) }
    }

    public func dataSync() throws {
        guard fdatasync(self.rawValue) == 0 else { throw SystemCallError("fdatasync", path: self.path) }
    }

    /// Starts writing the file's dirty pages back without waiting (`POSIX_FADV_DONTNEED`),
    /// so that a later `dataSync` finds little left to do.
    public func startWriteback() {
        _ = posix_fadvise(self.rawValue, 0, 0, POSIX_FADV_DONTNEED)
    }

    /// `syncfs(2)` on the file system holding this file: every file's data and metadata on it.
    public func syncFileSystem() throws {
        guard cfilesync_syncfs(self.rawValue) == 0 else { throw SystemCallError("syncfs", path: self.path) }
    }

    /// Closes now rather than in `deinit`, reporting the error; idempotent.
    public func close() throws {
        let fd = self.rawValue
        guard fd >= 0 else { return }
        self.rawValue = -1
        guard Glibc.close(fd) == 0 else { throw SystemCallError("close", path: self.path) }
    }

    /// Device and inode, to notice a path that now names another file.
    public func identity() throws -> FileIdentity {
        var info = stat()
        guard fstat(self.rawValue, &info) == 0 else { throw SystemCallError("fstat", path: self.path) }
        return FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }
}
