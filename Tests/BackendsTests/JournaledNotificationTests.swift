@testable import Backends
import FileIO
import Foundation
import Logging
import TestSupport
import Testing

/// The embedded store journaling each put's queue notification with it: one flush makes both
/// durable, the queue's table is brought up to date after the reply, and replay at start-up
/// inserts what the table lacks, each notification once.
@Suite("Journaled notifications")
struct JournaledNotificationTests {
    static let count = 16

    static func open(_ directory: String, checkpointInterval: TimeInterval = 3600) throws -> (FileSystemObjectStore, SQLiteMessageQueue) {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let queue = try SQLiteMessageQueue(path: "\(directory)/queue.sqlite")
        let store = try FileSystemObjectStore(
            directory: "\(directory)/objects", checkpointInterval: checkpointInterval, notificationQueue: queue)
        return (store, queue)
    }

    static func putAll(_ store: FileSystemObjectStore, prefix: String = "inbound/m") async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<Self.count {
                group.addTask {
                    _ = try await store.put(key: "\(prefix)\(index)", body: SegmentedBody(bytes: Array("body \(index)".utf8)), metadata: [:]) {
                        stored in #"{"key":"\#(stored.key)","etag":"\#(stored.eTag)"}"#
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// Every message of the queue, received (and hidden) at once.
    static func drain(_ queue: SQLiteMessageQueue) async throws -> [QueueMessage] {
        var messages: [QueueMessage] = []
        while true {
            let batch = try await queue.receive(maxMessages: 10, visibilityTimeout: 600, waitTime: 0)
            if batch.isEmpty { return messages }
            messages += batch
        }
    }

    static func waitForVisible(_ queue: SQLiteMessageQueue, _ count: Int) async throws -> Int {
        let deadline = Date().addingTimeInterval(20)
        var visible = 0
        repeat {
            visible = try await queue.statistics().visible
            if visible >= count { return visible }
            try await Task.sleep(for: .milliseconds(20))
        } while Date() < deadline
        return visible
    }

    /// What a killed process leaves of a data directory: its files as the page cache holds them.
    static func copyAsKilled(_ live: String, to copy: String) throws {
        try FileManager.default.copyItem(atPath: live, toPath: copy)
    }

    @Test("a put's notification is in its journal record and reaches the queue once")
    func notificationReachesQueue() async throws {
        let directory = try TemporaryDirectory()
        let (store, queue) = try Self.open(directory.path)
        #expect(store.journalsNotifications)
        try await Self.putAll(store)
        let records = try ObjectJournalTests.records(at: "\(directory.path)/objects/.meta/journal")
        #expect(records.count == Self.count && records.allSatisfy { $0.notification != nil })
        #expect(try await Self.waitForVisible(queue, Self.count) == Self.count)
        let bodies = try await Self.drain(queue).map(\.body).sorted()
        #expect(bodies == records.compactMap(\.notification?.body).sorted())
        #expect(Set(bodies.map { $0.split(separator: "\"")[3] }) == Set((0..<Self.count).map { "inbound/m\($0)" }[...].map { Substring($0) }))
    }

    @Test("killed after the journal flush, before the queue's table caught up: the next start inserts each notification once")
    func crashBeforeTheTableCaughtUp() async throws {
        let directory = try TemporaryDirectory()
        let live = directory.file("live")
        let (store, _) = try Self.open(live)
        // Another connection holds the queue's write lock: puts are answered, the table stays behind.
        let blocker = try SQLiteDatabase(path: "\(live)/queue.sqlite")
        try blocker.execute("BEGIN EXCLUSIVE")
        try await Self.putAll(store)
        #expect(store.notificationWriter?.pendingCount == Self.count)
        let copy = directory.file("copy")
        try Self.copyAsKilled(live, to: copy)
        try blocker.execute("ROLLBACK")

        let (recovered, queue) = try Self.open(copy)
        #expect(recovered.replayedRecords == Self.count)
        let messages = try await Self.drain(queue)
        #expect(messages.count == Self.count)
        #expect(Set(messages.map(\.messageId)).count == Self.count)
        #expect(try ObjectJournalTests.records(at: "\(copy)/objects/.meta/journal").isEmpty)
    }

    @Test("killed after the table caught up, before the checkpoint: the next start inserts nothing again")
    func crashAfterTheTableCaughtUp() async throws {
        let directory = try TemporaryDirectory()
        let live = directory.file("live")
        let (store, queue) = try Self.open(live)
        try await Self.putAll(store)
        #expect(try await Self.waitForVisible(queue, Self.count) == Self.count)
        #expect(store.checkpoints.current == 0)
        let copy = directory.file("copy")
        try Self.copyAsKilled(live, to: copy)

        let (recovered, copiedQueue) = try Self.open(copy)
        #expect(recovered.replayedRecords == Self.count)
        #expect(try await copiedQueue.statistics().visible == Self.count)
    }

    @Test("a checkpoint makes the table durable before the journal is emptied; later epochs prune what it recorded")
    func checkpointThenMore() async throws {
        let directory = try TemporaryDirectory()
        let (store, queue) = try Self.open(directory.path, checkpointInterval: 0.2)
        try await Self.putAll(store)
        let deadline = Date().addingTimeInterval(20)
        while store.checkpoints.current == 0 && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(store.checkpoints.current >= 1)
        #expect(try ObjectJournalTests.records(at: "\(directory.path)/objects/.meta/journal").isEmpty)
        try await Self.putAll(store, prefix: "inbound/n")
        #expect(try await Self.waitForVisible(queue, 2 * Self.count) == 2 * Self.count)
    }

    @Test("killed after the journal sync, before a small body's object file was written: the next start writes it from the journal and queues it once")
    func crashBeforeTheObjectFileWasWritten() async throws {
        let directory = try TemporaryDirectory()
        let live = directory.file("live")
        let copy = directory.file("copy")
        try FileManager.default.createDirectory(atPath: live, withIntermediateDirectories: true)
        let queue = try SQLiteMessageQueue(path: "\(live)/queue.sqlite")
        let copied = CopiedOnce(from: live, to: copy)
        var checkpoints = ObjectCommitter.Checkpoints(bytes: 64 * 1024 * 1024, interval: 3600, logger: Logger(label: "test"))
        checkpoints.journalSynced = { copied.copy() }
        let store = try FileSystemObjectStore(
            directory: "\(live)/objects", bucketName: "cis-local", access: .readWrite, groupCommit: true, checkpoints: checkpoints,
            notificationQueue: queue)
        let body = Array("Subject: small\r\n\r\nonly in the journal\r\n".utf8)
        let stored = try await store.put(key: "inbound/small", body: SegmentedBody(segments: [.bytes(Array(body[..<9])), .bytes(Array(body[9...]))]), metadata: ["m": "1"]) {
            stored in #"{"key":"\#(stored.key)","etag":"\#(stored.eTag)"}"#
        }
        #expect(stored.eTag == (try SegmentedBody(bytes: body).digests().md5.map { String(format: "%02x", $0) }.joined()))
        #expect(try await store.get(key: "inbound/small").bytes == body)
        // At the kill the body was in the synced journal only: no object file, no temp file.
        #expect(copied.error == nil)
        #expect(FileIdentity.of(path: "\(copy)/objects/inbound/small") == nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(copy)/objects/.tmp").isEmpty)

        do {
            let (recovered, recoveredQueue) = try Self.open(copy)
            #expect(recovered.replayedRecords == 1)
            let fetched = try await recovered.get(key: "inbound/small")
            #expect(fetched.bytes == body && fetched.metadata == ["m": "1"])
            let messages = try await Self.drain(recoveredQueue)
            #expect(messages.map(\.body) == [#"{"key":"inbound/small","etag":"\#(stored.eTag)"}"#])
        }
        // Started again: nothing left to replay, nothing queued twice.
        let (again, againQueue) = try Self.open(copy)
        #expect(again.replayedRecords == 0)
        #expect(try await againQueue.statistics() == .init(visible: 0, inFlight: 1, deadLetters: 0))
        #expect(try await again.get(key: "inbound/small").bytes == body)
    }

    /// Copies a store's directory the first time it is called (on the committer's thread).
    final class CopiedOnce: @unchecked Sendable {
        // @unchecked: `done` and `error` are only touched with `lock` held.
        private let lock = NSLock()
        private let source: String
        private let destination: String
        private var done = false
        private(set) var error: (any Error)?

        init(from source: String, to destination: String) {
            self.source = source
            self.destination = destination
        }

        func copy() {
            self.lock.lock()
            defer { self.lock.unlock() }
            guard !self.done else { return }
            self.done = true
            do { try JournaledNotificationTests.copyAsKilled(self.source, to: self.destination) } catch { self.error = error }
        }
    }

    @Test("a journal holding notifications is not opened without its queue")
    func noQueueNoReplay() async throws {
        let directory = try TemporaryDirectory()
        let live = directory.file("live")
        let (store, _) = try Self.open(live)
        let blocker = try SQLiteDatabase(path: "\(live)/queue.sqlite")
        try blocker.execute("BEGIN EXCLUSIVE")
        try await Self.putAll(store)
        let copy = directory.file("copy")
        try Self.copyAsKilled(live, to: copy)
        try blocker.execute("ROLLBACK")
        #expect(throws: BackendError.self) { _ = try FileSystemObjectStore(directory: "\(copy)/objects") }
        // Refused, not consumed: opened with the queue, everything is still there.
        let (_, queue) = try Self.open(copy)
        #expect(try await queue.statistics().visible == Self.count)
    }
}
