@testable import Backends
import FileIO
import Digest
import Foundation
import TestSupport
import Testing

@Suite("FileSystemObjectStore")
struct FileSystemObjectStoreTests {
    @Test("put then get returns the bytes, the metadata and the MD5 eTag", arguments: [true, false])
    func roundTrip(groupCommit: Bool) async throws {
        let directory = try TemporaryDirectory()
        let store = try FileSystemObjectStore(directory: directory.file("objects"), groupCommit: groupCommit)
        let bytes = Array("Subject: hi\r\n\r\nbody\r\n".utf8)
        let stored = try await store.put(
            key: "inbound/abc", body: SegmentedBody(bytes: bytes), metadata: ["mail-from": "a@example.com", "tls": "false"])
        #expect(stored == StoredObject(key: "inbound/abc", size: bytes.count, eTag: Digest.md5(bytes).hexString))
        let fetched = try await store.get(key: "inbound/abc")
        #expect(fetched.bytes == bytes)
        #expect(fetched.metadata == ["mail-from": "a@example.com", "tls": "false"])
        #expect(FileManager.default.contents(atPath: directory.file("objects/inbound/abc")) == Data(bytes))
        #expect(store.bucketName == "cis-local")
    }

    @Test("metadata with hostile strings reads back as the table wrote it")
    func metadataWithHostileStringsRoundTrips() async throws {
        let metadata = [
            "mail-from": "\"quoted\"@example.com", "helo": "back\\slash/slash", "controls": "\u{0}\u{1}\t\n\r\u{1F}",
            "unicode": "é€😀\u{2028}", "": "empty key", "empty": "",
        ]
        #expect(try ObjectMetadataTable.decode(try ObjectMetadataTable.encode(metadata)) == metadata)
        let directory = try TemporaryDirectory()
        let store = try FileSystemObjectStore(directory: directory.path)
        _ = try await store.put(key: "k", body: SegmentedBody(bytes: [1]), metadata: metadata)
        #expect(try await store.get(key: "k").metadata == metadata)
        for malformed in ["[]", #"{"a":1}"#, #"{"a":null}"#, #"{"a":"x","a":"y"}"#, #"{"a":"x""#] {
            #expect(throws: (any Error).self) { try ObjectMetadataTable.decode(malformed) }
        }
    }

    @Test("a put overwrites an existing key, metadata included")
    func overwrite() async throws {
        let directory = try TemporaryDirectory()
        let store = try FileSystemObjectStore(directory: directory.path, bucketName: "b")
        _ = try await store.put(key: "k", body: SegmentedBody(bytes: [1, 2, 3]), metadata: ["v": "1"])
        _ = try await store.put(key: "k", body: SegmentedBody(bytes: [4]), metadata: [:])
        let fetched = try await store.get(key: "k")
        #expect(fetched.bytes == [4])
        #expect(fetched.metadata == [:])
    }

    @Test(
        "keys that could leave the directory or hit the store's own files are rejected",
        arguments: [
            "", "../escape", "inbound/../../escape", "/etc/passwd", "a//b", "a/", "./a", "a/./b", "a/..",
            ".meta/x", ".tmp/x", "a\u{0}b", "a\nb", "a\\..\\b", String(repeating: "x", count: 256),
            String(repeating: "a/", count: 600) + "b",
        ])
    func rejectsEscapingKeys(key: String) async throws {
        let directory = try TemporaryDirectory()
        let store = try FileSystemObjectStore(directory: directory.file("objects"))
        let error = await #expect(throws: BackendError.self) {
            _ = try await store.put(key: key, body: SegmentedBody(bytes: [1]), metadata: [:])
        }
        #expect(error?.kind == .invalidArgument)
        await #expect(throws: BackendError.self) { _ = try await store.get(key: key) }
        #expect(!FileManager.default.fileExists(atPath: directory.file("escape")))
    }

    @Test("a missing key is notFound")
    func missingKey() async throws {
        let directory = try TemporaryDirectory()
        let store = try FileSystemObjectStore(directory: directory.path)
        let error = await #expect(throws: BackendError.self) { _ = try await store.get(key: "inbound/none") }
        #expect(error?.kind == .notFound)
    }

    @Test("a file segment is streamed from its offset, and its MD5 covers every segment")
    func fileSegment() async throws {
        let directory = try TemporaryDirectory()
        let store = try FileSystemObjectStore(directory: directory.file("objects"))
        var spool = [UInt8](repeating: 0, count: 3 * 1024 * 1024 + 17)
        for index in spool.indices { spool[index] = UInt8(truncatingIfNeeded: index &* 31 &+ index >> 11) }
        let spoolPath = directory.file("spool")
        try Data(spool).write(to: URL(fileURLWithPath: spoolPath))
        let header = Array("Received: x\r\n".utf8)
        let body = SegmentedBody(segments: [.bytes(header), .file(path: spoolPath, offset: 5, length: spool.count - 10)])
        let stored = try await store.put(key: "big", body: body, metadata: [:])
        let expected = header + spool[5..<(spool.count - 5)]
        #expect(stored.size == expected.count)
        #expect(stored.eTag == Digest.md5(expected).hexString)
        #expect(try await store.get(key: "big").bytes == expected)
    }

    @Test("a file segment longer than its file fails and leaves no object")
    func shortFileSegment() async throws {
        let directory = try TemporaryDirectory()
        let store = try FileSystemObjectStore(directory: directory.file("objects"))
        let spoolPath = directory.file("spool")
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: spoolPath))
        let error = await #expect(throws: BackendError.self) {
            _ = try await store.put(key: "k", body: SegmentedBody(segments: [.file(path: spoolPath, offset: 0, length: 10)]), metadata: [:])
        }
        #expect(error?.kind == .invalidArgument)
        await #expect(throws: BackendError.self) { _ = try await store.get(key: "k") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.file("objects/.tmp")).isEmpty)
    }

    @Test("concurrent puts all land with their own bytes", arguments: [true, false])
    func concurrentPuts(groupCommit: Bool) async throws {
        let directory = try TemporaryDirectory()
        let store = try FileSystemObjectStore(directory: directory.file("objects"), groupCommit: groupCommit)
        let count = 200
        let results = try await withThrowingTaskGroup(of: StoredObject.self) { group in
            for index in 0..<count {
                group.addTask {
                    try await store.put(
                        key: "inbound/m\(index)", body: SegmentedBody(bytes: Array("message \(index)".utf8)), metadata: ["i": "\(index)"])
                }
            }
            return try await group.reduce(into: [StoredObject]()) { $0.append($1) }
        }
        #expect(results.count == count)
        for index in 0..<count {
            let fetched = try await store.get(key: "inbound/m\(index)")
            #expect(fetched.bytes == Array("message \(index)".utf8))
            #expect(fetched.metadata == ["i": "\(index)"])
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.file("objects/inbound"))
        #expect(names.count == count)
    }

    @Test("objects survive reopening, and leftover temp files are removed at start-up")
    func reopen() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("objects")
        do {
            let store = try FileSystemObjectStore(directory: path)
            _ = try await store.put(key: "inbound/kept", body: SegmentedBody(bytes: [7, 7]), metadata: ["a": "b"])
        }
        _ = FileManager.default.createFile(atPath: "\(path)/.tmp/leftover", contents: Data([1]))
        let reopened = try FileSystemObjectStore(directory: path)
        let fetched = try await reopened.get(key: "inbound/kept")
        #expect(fetched.bytes == [7, 7])
        #expect(fetched.metadata == ["a": "b"])
        #expect(!FileManager.default.fileExists(atPath: "\(path)/.tmp/leftover"))
    }

    @Test("a store whose directory was replaced by a regular file fails its puts")
    func directoryReplacedByFile() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("objects")
        let store = try FileSystemObjectStore(directory: path)
        try FileManager.default.removeItem(atPath: path)
        _ = FileManager.default.createFile(atPath: path, contents: Data("not a directory".utf8))
        let error = await #expect(throws: BackendError.self) {
            _ = try await store.put(key: "inbound/x", body: SegmentedBody(bytes: [1]), metadata: [:])
        }
        #expect(error?.kind == .unavailable)
    }

    @Test("opening over a regular file fails with a clear error")
    func openOverFile() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("objects")
        _ = FileManager.default.createFile(atPath: path, contents: Data([1]))
        #expect(throws: BackendError.self) { _ = try FileSystemObjectStore(directory: path) }
    }

    @Test("with group commit, concurrent puts share commits; without it, each put commits alone", arguments: [true, false])
    func groupCommitSharesBatches(groupCommit: Bool) async throws {
        let directory = try TemporaryDirectory()
        let store = try FileSystemObjectStore(directory: directory.path, groupCommit: groupCommit)
        let count = 64
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<count {
                group.addTask { _ = try await store.put(key: "m\(index)", body: SegmentedBody(bytes: [UInt8(index)]), metadata: [:]) }
            }
            try await group.waitForAll()
        }
        if groupCommit {
            #expect(store.commitBatches.current < count)
        } else {
            #expect(store.commitBatches.current == count)
        }
    }
}
