@testable import Backends
import FileIO
import Foundation
import Logging
import TestSupport
import Testing

@Suite("JournalRecord")
struct JournalRecordTests {
    static let records = [
        JournalRecord(epoch: 7, key: "inbound/01abc", metadata: ["mail-from": "a@example.com", "tls": "true"], body: Array("Subject: x\r\n\r\nbody\r\n".utf8)),
        JournalRecord(
            epoch: 7, key: "inbound/ünïcode", metadata: [:], body: [],
            notification: JournaledNotification(messageId: "6f1c0b1e-0000-4000-8000-000000000001", body: #"{"Records":[{"ü":1}]}"#)),
        JournalRecord(epoch: 7, key: "big/one", metadata: ["recipients": "create@localhost"], body: nil),
    ]

    @Test("records decode to what was encoded, body or not")
    func roundTrip() throws {
        let bytes = try Self.records.flatMap { try $0.encoded() }
        let decoded = JournalRecord.decodeAll(bytes)
        #expect(decoded.records == Self.records)
        #expect(decoded.length == bytes.count)
    }

    @Test("cut anywhere, only the records wholly before the cut come back")
    func everyCut() throws {
        let encoded = try Self.records.map { try $0.encoded() }
        let bytes = encoded.flatMap { $0 }
        let ends = encoded.reduce(into: [Int]()) { $0.append(($0.last ?? 0) + $1.count) }
        for cut in 0...bytes.count {
            let decoded = JournalRecord.decodeAll(Array(bytes[..<cut]))
            let whole = ends.filter { $0 <= cut }.count
            #expect(decoded.records == Array(Self.records.prefix(whole)), "cut at \(cut)")
            #expect(decoded.length == (whole == 0 ? 0 : ends[whole - 1]))
        }
    }

    @Test("a damaged byte anywhere in a record ends the journal before it")
    func damage() throws {
        let first = try Self.records[0].encoded()
        let second = try Self.records[1].encoded()
        for index in 0..<second.count {
            var damaged = second
            damaged[index] ^= 0x40
            let decoded = JournalRecord.decodeAll(first + damaged + (try Self.records[2].encoded()))
            #expect(decoded.records == [Self.records[0]], "byte \(index)")
        }
    }

    @Test("records of another epoch after the first ones are older and not read")
    func olderEpoch() throws {
        var stale = Self.records[2]
        stale.epoch = 6
        let decoded = JournalRecord.decodeAll(try Self.records[0].encoded() + (try stale.encoded()))
        #expect(decoded.records == [Self.records[0]])
    }

    @Test("zeroes are no record")
    func zeroes() {
        #expect(JournalRecord.decodeAll([UInt8](repeating: 0, count: 4096)).records.isEmpty)
    }
}

@Suite("ObjectJournal")
struct ObjectJournalTests {
    static func records(at path: String) throws -> [JournalRecord] {
        var records: [JournalRecord] = []
        try ObjectJournal.forEachRecord(at: path) { records.append($0) }
        return records
    }

    @Test("after a reset only the records written since are read, though the file still holds older ones")
    func resetHidesOlderRecords() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("journal")
        let journal = try ObjectJournal(path: path)
        let big = [UInt8](repeating: 0x61, count: 10_000)
        try journal.append([("a", #"{"n":"1"}"#, big), ("b", #"{"n":"2"}"#, big)])
        try journal.file.dataSync()
        #expect(try Self.records(at: path).map(\.key) == ["a", "b"])
        try journal.reset()
        #expect(try Self.records(at: path).isEmpty)
        try journal.append([("c", "{}", [1, 2, 3])])
        try journal.file.dataSync()
        #expect(try Self.records(at: path).map(\.key) == ["c"])
        #expect(try journal.file.size() >= ObjectJournal.growthStep)
    }

    @Test("a batch taken back is not read, and the next batch takes its place")
    func discard() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("journal")
        let journal = try ObjectJournal(path: path)
        try journal.append([("kept", "{}", [1])])
        let start = journal.size
        try journal.append([("failed", "{}", [UInt8](repeating: 2, count: 100))])
        journal.discard(from: start)
        #expect(try Self.records(at: path).map(\.key) == ["kept"])
        try journal.append([("next", "{}", [3])])
        #expect(try Self.records(at: path).map(\.key) == ["kept", "next"])
    }
}

@Suite("FileSystemObjectStore journal")
struct FileSystemObjectStoreJournalTests {
    static func journalPath(_ directory: String) -> String { "\(directory)/.meta/journal" }

    @Test("an answered put is in the journal before any checkpoint; a copy of the store taken then, with its object files lost, gets them back")
    func answeredPutsSurviveLostObjectFiles() async throws {
        let directory = try TemporaryDirectory()
        let live = directory.file("live")
        let store = try FileSystemObjectStore(directory: live, checkpointInterval: 3600)
        let bodies = (0..<20).map { index in Array("Subject: \(index)\r\n\r\n\(String(repeating: "x", count: index * 100))\r\n".utf8) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, body) in bodies.enumerated() {
                group.addTask { _ = try await store.put(key: "inbound/m\(index)", body: SegmentedBody(bytes: body), metadata: ["i": "\(index)"]) }
            }
            try await group.waitForAll()
        }
        #expect(store.checkpoints.current == 0)
        let journaled = try ObjectJournalTests.records(at: Self.journalPath(live))
        #expect(Set(journaled.map(\.key)) == Set((0..<20).map { "inbound/m\($0)" }))

        // What a power cut before the checkpoint can leave: the journal, object files empty or
        // missing, the unsynced metadata gone.
        let copy = directory.file("copy")
        try FileManager.default.createDirectory(atPath: "\(copy)/.meta", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.journalPath(live), toPath: Self.journalPath(copy))
        try FileManager.default.createDirectory(atPath: "\(copy)/inbound", withIntermediateDirectories: true)
        for index in stride(from: 0, to: 20, by: 2) {
            FileManager.default.createFile(atPath: "\(copy)/inbound/m\(index)", contents: Data())
        }
        let recovered = try FileSystemObjectStore(directory: copy, access: .readOnly)
        #expect(recovered.replayedRecords == 20)
        for (index, body) in bodies.enumerated() {
            let fetched = try await recovered.get(key: "inbound/m\(index)")
            #expect(fetched.bytes == body)
            #expect(fetched.metadata == ["i": "\(index)"])
        }
        #expect(try ObjectJournalTests.records(at: Self.journalPath(copy)).isEmpty)
        #expect(try FileSystemObjectStore(directory: copy).replayedRecords == 0)
    }

    @Test("a torn record at the end of the journal is dropped, the whole ones before it replayed")
    func tornTail() async throws {
        let directory = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory.file(".meta"), withIntermediateDirectories: true)
        let journal = try ObjectJournal(path: Self.journalPath(directory.path))
        try journal.append([("a", #"{"k":"v"}"#, [1, 2, 3])])
        // The second record as a crash in mid-write leaves it: same epoch, cut short.
        let epoch = try ObjectJournalTests.records(at: Self.journalPath(directory.path))[0].epoch
        let second = try JournalRecord(epoch: epoch, key: "b", metadata: [:], body: [UInt8](repeating: 9, count: 500)).encoded()
        try journal.file.writeAll(Array(second.prefix(second.count / 2)), at: journal.size)
        try journal.file.dataSync()

        let store = try FileSystemObjectStore(directory: directory.path)
        #expect(store.replayedRecords == 1)
        #expect(try await store.get(key: "a").bytes == [1, 2, 3])
        await #expect(throws: BackendError.self) { _ = try await store.get(key: "b") }
    }

    @Test("a journal record whose key would leave the directory is not written out")
    func replayValidatesKeys() throws {
        let directory = try TemporaryDirectory()
        let root = directory.file("store")
        try FileManager.default.createDirectory(atPath: "\(root)/.meta", withIntermediateDirectories: true)
        let journal = try ObjectJournal(path: Self.journalPath(root))
        try journal.append([("../escaped", "{}", [1]), ("fine", "{}", [2])])
        try journal.file.dataSync()
        let store = try FileSystemObjectStore(directory: root)
        #expect(store.replayedRecords == 1)
        #expect(!FileManager.default.fileExists(atPath: directory.file("escaped")))
    }

    @Test("the checkpoint runs when the oldest record is due and empties the journal")
    func checkpointByTime() async throws {
        let directory = try TemporaryDirectory()
        let store = try FileSystemObjectStore(directory: directory.path, checkpointInterval: 0.2)
        _ = try await store.put(key: "k", body: SegmentedBody(bytes: [1]), metadata: [:])
        let deadline = Date().addingTimeInterval(20)
        while store.checkpoints.current == 0 && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(store.checkpoints.current == 1)
        #expect(try ObjectJournalTests.records(at: Self.journalPath(directory.path)).isEmpty)
        #expect(try await store.get(key: "k").bytes == [1])
    }

    @Test("the checkpoint runs when the journal holds enough bytes")
    func checkpointBySize() async throws {
        let directory = try TemporaryDirectory()
        let store = try FileSystemObjectStore(directory: directory.path, checkpointBytes: 1000, checkpointInterval: 3600)
        _ = try await store.put(key: "small", body: SegmentedBody(bytes: [1]), metadata: [:])
        #expect(store.checkpoints.current == 0)
        _ = try await store.put(key: "large", body: SegmentedBody(bytes: [UInt8](repeating: 2, count: 2000)), metadata: [:])
        let deadline = Date().addingTimeInterval(20)
        while store.checkpoints.current == 0 && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(store.checkpoints.current == 1)
    }

    @Test("a body over the journal limit is synced in its own file; its record carries only key and metadata")
    func largeBodyBypassesJournal() async throws {
        let directory = try TemporaryDirectory()
        let store = try FileSystemObjectStore(directory: directory.path, checkpointInterval: 3600)
        let body = (0..<(FileSystemObjectStore.journalBodyLimit + 10)).map { UInt8(truncatingIfNeeded: $0) }
        _ = try await store.put(key: "inbound/large", body: SegmentedBody(bytes: body), metadata: ["size": "large"])
        let records = try ObjectJournalTests.records(at: Self.journalPath(directory.path))
        #expect(records == [JournalRecord(epoch: records.first?.epoch ?? 0, key: "inbound/large", metadata: ["size": "large"], body: nil)])
        let stored = try await store.get(key: "inbound/large").bytes == body
        #expect(stored)
    }

    @Test("without group commit there is no journal record: each put is synced alone")
    func naiveWritesNoJournal() async throws {
        let directory = try TemporaryDirectory()
        let store = try FileSystemObjectStore(directory: directory.path, groupCommit: false)
        _ = try await store.put(key: "k", body: SegmentedBody(bytes: [1]), metadata: [:])
        let journalPath = Self.journalPath(directory.path)
        let records = FileManager.default.fileExists(atPath: journalPath) ? try ObjectJournalTests.records(at: journalPath) : []
        #expect(records.isEmpty)
        #expect(store.checkpoints.current == 0)
    }
}

@Suite("FileSystemObjectStore access")
struct FileSystemObjectStoreAccessTests {
    @Test("a second writer on the same directory is refused, naming the lock")
    func oneWriter() throws {
        let directory = try TemporaryDirectory()
        let writer = try FileSystemObjectStore(directory: directory.path)
        let error = #expect(throws: BackendError.self) { _ = try FileSystemObjectStore(directory: directory.path) }
        #expect(error?.description.contains("writer.lock") == true)
        _ = writer
    }

    @Test("a reader beside a live writer replays nothing, removes none of its temp files, reads its objects and cannot put")
    func readerBesideWriter() async throws {
        let directory = try TemporaryDirectory()
        let writer = try FileSystemObjectStore(directory: directory.path, checkpointInterval: 3600)
        _ = try await writer.put(key: "inbound/a", body: SegmentedBody(bytes: [1, 2]), metadata: ["m": "1"])
        let inFlight = directory.file(".tmp/in-flight")
        FileManager.default.createFile(atPath: inFlight, contents: Data([9]))

        let reader = try FileSystemObjectStore(directory: directory.path, access: .readOnly)
        #expect(reader.replayedRecords == 0)
        #expect(FileManager.default.fileExists(atPath: inFlight))
        #expect(try ObjectJournalTests.records(at: directory.file(".meta/journal")).map(\.key) == ["inbound/a"])
        let fetched = try await reader.get(key: "inbound/a")
        #expect(fetched.bytes == [1, 2])
        #expect(fetched.metadata == ["m": "1"])
        let error = await #expect(throws: BackendError.self) { _ = try await reader.put(key: "b", body: SegmentedBody(bytes: [1]), metadata: [:]) }
        #expect(error?.kind == .invalidArgument)
        // The writer goes on: its journal was left alone.
        _ = try await writer.put(key: "inbound/b", body: SegmentedBody(bytes: [3]), metadata: [:])
        #expect(try ObjectJournalTests.records(at: directory.file(".meta/journal")).map(\.key) == ["inbound/a", "inbound/b"])
    }

    @Test("a reader opened while no writer runs replays the journal the last writer left")
    func readerReplaysWhenNoWriter() async throws {
        let directory = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory.file(".meta"), withIntermediateDirectories: true)
        let journal = try ObjectJournal(path: directory.file(".meta/journal"))
        try journal.append([("inbound/left", #"{"m":"v"}"#, [7, 7])])
        try journal.file.dataSync()
        let reader = try FileSystemObjectStore(directory: directory.path, access: .readOnly)
        #expect(reader.replayedRecords == 1)
        #expect(try await reader.get(key: "inbound/left").bytes == [7, 7])
        // It does not keep the writer lock.
        _ = try FileSystemObjectStore(directory: directory.path)
    }

    @Test("checkpoint() syncs and empties the journal at once, and the store goes on")
    func explicitCheckpoint() async throws {
        let directory = try TemporaryDirectory()
        let store = try FileSystemObjectStore(directory: directory.path, checkpointInterval: 3600)
        _ = try await store.put(key: "k", body: SegmentedBody(bytes: [1]), metadata: [:])
        #expect(try ObjectJournalTests.records(at: directory.file(".meta/journal")).count == 1)
        await store.checkpoint()
        #expect(store.checkpoints.current == 1)
        #expect(try ObjectJournalTests.records(at: directory.file(".meta/journal")).isEmpty)
        _ = try await store.put(key: "k2", body: SegmentedBody(bytes: [2]), metadata: [:])
        #expect(try ObjectJournalTests.records(at: directory.file(".meta/journal")).map(\.key) == ["k2"])
    }
}

@Suite("FileSystemObjectStore journal overwrites")
struct FileSystemObjectStoreJournalOverwriteTests {
    @Test("replay keeps a key's last put: a large body synced in place is not overwritten by an earlier journaled one")
    func lastRecordWins() async throws {
        let directory = try TemporaryDirectory()
        let large = [UInt8](repeating: 0x4c, count: FileSystemObjectStore.journalBodyLimit + 1)
        do {
            let store = try FileSystemObjectStore(directory: directory.path, checkpointInterval: 3600)
            _ = try await store.put(key: "k", body: SegmentedBody(bytes: [1, 2, 3]), metadata: ["v": "small"])
            _ = try await store.put(key: "k", body: SegmentedBody(bytes: large), metadata: ["v": "large"])
            // Keep the journal as a crash would: copy it aside before the store's shutdown checkpoint.
            try FileManager.default.copyItem(atPath: directory.file(".meta/journal"), toPath: directory.file("journal.saved"))
        }
        try FileManager.default.removeItem(atPath: directory.file(".meta/journal"))
        try FileManager.default.moveItem(atPath: directory.file("journal.saved"), toPath: directory.file(".meta/journal"))
        #expect(try ObjectJournalTests.records(at: directory.file(".meta/journal")).map(\.key) == ["k", "k"])

        let reopened = try FileSystemObjectStore(directory: directory.path)
        #expect(reopened.replayedRecords == 1)
        let fetched = try await reopened.get(key: "k")
        // Compared as one Bool: a failing #expect on two 1 MiB arrays would print them both.
        let largeBodyKept = fetched.bytes == large
        #expect(largeBodyKept, "got \(fetched.bytes.count) bytes, \(fetched.bytes.prefix(3))...")
        #expect(fetched.metadata == ["v": "large"])
    }
}

@Suite("FileSystemObjectStore failed checkpoints")
struct FileSystemObjectStoreFailedCheckpointTests {
    /// A store whose checkpoint sync fails the first `failing` times.
    static func store(_ directory: String, failing: Int, calls: LockedCounter) throws -> FileSystemObjectStore {
        let checkpoints = ObjectCommitter.Checkpoints(
            bytes: 1 << 30, interval: 3600,
            syncFileSystem: { path in
                if calls.next() <= failing { throw SystemCallError("syncfs", path: path, code: EIO) }
                try FileSystem.syncFileSystem(containing: path)
            },
            logger: Logger(label: "cis-tests"))
        return try FileSystemObjectStore(directory: directory, bucketName: "cis-local", access: .readWrite, groupCommit: true, checkpoints: checkpoints)
    }

    @Test("a checkpoint whose sync fails writes the journaled objects out again before the journal starts over")
    func failedSyncWritesBack() async throws {
        let directory = try TemporaryDirectory()
        let calls = LockedCounter()
        let store = try Self.store(directory.path, failing: 1, calls: calls)
        _ = try await store.put(key: "inbound/a", body: SegmentedBody(bytes: [1, 2, 3]), metadata: ["m": "1"])
        // What a failed writeback can leave behind: the object file's pages dropped.
        try Data().write(to: URL(fileURLWithPath: directory.file("inbound/a")))
        await store.checkpoint()
        #expect(calls.current == 1)
        #expect(store.checkpoints.current == 1)
        let fetched = try await store.get(key: "inbound/a")
        #expect(fetched.bytes == [1, 2, 3])
        #expect(fetched.metadata == ["m": "1"])
        #expect(try ObjectJournalTests.records(at: directory.file(".meta/journal")).isEmpty)
    }

    @Test("a checkpoint that cannot finish keeps every record in the journal; the next one finishes it")
    func checkpointThatCannotFinish() async throws {
        let directory = try TemporaryDirectory()
        let calls = LockedCounter()
        let store = try Self.store(directory.path, failing: 1, calls: calls)
        _ = try await store.put(key: "inbound/a", body: SegmentedBody(bytes: [4]), metadata: [:])
        // The write-back after the failed sync needs the temp directory: without it, it fails too.
        try FileManager.default.removeItem(atPath: directory.file(".tmp"))
        await store.checkpoint()
        #expect(store.checkpoints.current == 0)
        #expect(try ObjectJournalTests.records(at: directory.file(".meta/journal")).map(\.key) == ["inbound/a"])
        try FileManager.default.createDirectory(atPath: directory.file(".tmp"), withIntermediateDirectories: false)
        await store.checkpoint()
        #expect(store.checkpoints.current == 1)
        #expect(try ObjectJournalTests.records(at: directory.file(".meta/journal")).isEmpty)
    }
}
