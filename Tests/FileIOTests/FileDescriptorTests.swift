import FileIO
import Foundation
import TestSupport
import Testing

@Suite("FileDescriptor, FileSystem and SystemCallError")
struct FileDescriptorTests {
    @Test("write, pwrite, pread, size and truncate round-trip")
    func readWrite() throws {
        let directory = try TemporaryDirectory(prefix: "cis-fileio")
        let file = try FileDescriptor.open(directory.file("f"), flags: O_RDWR | O_CREAT | O_EXCL)
        try file.writeAll(Array("hello world".utf8))
        try file.writeAll(Array("W".utf8), at: 6)
        try file.dataSync()
        #expect(try file.size() == 11)
        #expect(try file.read(count: 5, at: 6) == Array("World".utf8))
        #expect(try file.read(count: 6, at: 6) == nil)
        #expect(try file.readToEnd() == Array("hello World".utf8))
        try file.truncate(to: 5)
        #expect(try file.readToEnd() == Array("hello".utf8))
        try file.close()
        try file.close()
    }

    @Test("an error carries the call, the path and errno")
    func errorContext() throws {
        let directory = try TemporaryDirectory(prefix: "cis-fileio")
        let path = directory.file("missing/f")
        let error = #expect(throws: SystemCallError.self) { _ = try FileDescriptor.open(path, flags: O_RDONLY) }
        #expect(error?.call == "open")
        #expect(error?.path == path)
        #expect(error?.code == ENOENT)
        #expect(error?.description == "open(\(path)): No such file or directory")
        let existing = try FileDescriptor.open(directory.file("f"), flags: O_WRONLY | O_CREAT)
        let exclusive = #expect(throws: SystemCallError.self) {
            _ = try FileDescriptor.open(directory.file("f"), flags: O_WRONLY | O_CREAT | O_EXCL)
        }
        #expect(exclusive?.code == EEXIST)
        try existing.close()
    }

    @Test("createUnique makes an owner-only file with the prefix")
    func createUnique() throws {
        let directory = try TemporaryDirectory(prefix: "cis-fileio")
        let first = try FileDescriptor.createUnique(in: directory.path, prefix: "cis-spool-")
        let second = try FileDescriptor.createUnique(in: directory.path, prefix: "cis-spool-")
        #expect(first.path != second.path)
        #expect(first.path.hasPrefix(directory.file("cis-spool-")))
        let attributes = try FileManager.default.attributesOfItem(atPath: first.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    @Test("makeDirectories reports the parents it changed; rename and syncs work")
    func directories() throws {
        let directory = try TemporaryDirectory(prefix: "cis-fileio")
        let changed = try FileSystem.makeDirectories(directory.file("a/b/c"))
        #expect(changed == [directory.path, directory.file("a"), directory.file("a/b")])
        #expect(try FileSystem.makeDirectories(directory.file("a/b/c")).isEmpty)
        try FileSystem.syncDirectory(directory.file("a"))
        try FileSystem.syncFileSystem(containing: directory.path)
        try Data([1]).write(to: URL(fileURLWithPath: directory.file("a/x")))
        try FileSystem.rename(directory.file("a/x"), to: directory.file("a/b/y"))
        #expect(FileManager.default.fileExists(atPath: directory.file("a/b/y")))
        #expect(FileSystem.parent(of: directory.file("a/b/y")) == directory.file("a/b"))
        #expect(FileSystem.parent(of: "/x") == "/")
        let notDirectory = #expect(throws: SystemCallError.self) { try FileSystem.makeDirectory(directory.file("a/b/y")) }
        #expect(notDirectory?.code == ENOTDIR)
    }

    @Test("flock: a second descriptor cannot take a held lock")
    func exclusiveLock() throws {
        let directory = try TemporaryDirectory(prefix: "cis-fileio")
        let holder = try FileDescriptor.open(directory.file("lock"), flags: O_RDWR | O_CREAT)
        let other = try FileDescriptor.open(directory.file("lock"), flags: O_RDWR)
        #expect(try holder.lockExclusively(wait: false))
        #expect(try !other.lockExclusively(wait: false))
        try holder.close()
        #expect(try other.lockExclusively(wait: false))
    }

    @Test("read(exactly:) joins a pipe's short reads; nil when the pipe ends between reads, TruncatedRead inside one")
    func readExactlyFromAPipe() throws {
        let directory = try TemporaryDirectory(prefix: "cis-fileio")
        let fifo = directory.file("pipe")
        #expect(mkfifo(fifo, 0o600) == 0)
        let writer = Thread {
            guard let pipe = try? FileDescriptor.open(fifo, flags: O_WRONLY) else { return }
            for piece: [UInt8] in [[1, 2], [3], [4, 5, 6]] {
                try? pipe.writeAll(piece)
                usleep(20_000)
            }
        }
        writer.start()
        let reader = try FileDescriptor.open(fifo, flags: O_RDONLY)
        #expect(try reader.read(exactly: 5) == [1, 2, 3, 4, 5])
        #expect(throws: FileDescriptor.TruncatedRead(path: fifo, expected: 3, received: 1)) { try reader.read(exactly: 3) }
        #expect(try reader.read(exactly: 1) == nil)
        #expect(try reader.read(exactly: 0) == [])
    }
}
