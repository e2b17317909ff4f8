@testable import Backends
import DropBox
import Foundation
import Logging
import NIOConcurrencyHelpers
import SMTPCore
import SMTPServer
import TestSupport
import Testing

/// The whole intake path as `cis smtp` runs it: the listener, the drop box and the embedded
/// store journaling notifications, where a message in memory goes from the event loop
/// straight to the store's committer and the answer straight back.
@Suite(.timeLimit(.minutes(1))) struct DurableReplyTests {
    /// Counts the committer's journal syncs, each finished only after a pause: a 250 sent
    /// before the sync of its message's record was done arrives before the count moves.
    final class JournalSyncs: Sendable {
        private let count = NIOLockedValueBox(0)

        func synced() {
            Thread.sleep(forTimeInterval: 0.3)
            self.count.withLockedValue { $0 += 1 }
        }

        var current: Int { self.count.withLockedValue { $0 } }
    }

    private struct Intake {
        let directory: TemporaryDirectory
        let store: FileSystemObjectStore
        let queue: SQLiteMessageQueue
        let dropBox: DropBox

        init(syncs: JournalSyncs) throws {
            self.directory = try TemporaryDirectory()
            self.queue = try SQLiteMessageQueue(path: self.directory.file("queue.sqlite"))
            var checkpoints = ObjectCommitter.Checkpoints(bytes: 64 << 20, interval: 3600, logger: Logger(label: "test"))
            checkpoints.journalSynced = { syncs.synced() }
            self.store = try FileSystemObjectStore(
                directory: self.directory.file("objects"), bucketName: "cis-local", access: .readWrite, groupCommit: true,
                checkpoints: checkpoints, notificationQueue: self.queue)
            self.dropBox = DropBox(
                objectStore: self.store, queue: self.queue, configuration: DropBoxConfiguration(hostname: "mx.test"),
                logger: Logger(label: "test"))
        }
    }

    /// Sends one message and returns the reply to its final dot and the journal syncs finished when it came.
    private static func send(_ text: String, port: Int, syncs: JournalSyncs) async throws -> (reply: String, syncs: Int) {
        let client = try await SMTPTestClient(port: port)
        _ = try await client.readReply()
        try await client.send("EHLO client.example\r\nMAIL FROM:<organizer@example.com>\r\nRCPT TO:<create@localhost>\r\nDATA\r\n")
        for _ in 0..<4 { _ = try await client.readReply() }
        try await client.send(text + ".\r\n")
        let reply = try await client.readReply()
        let synced = syncs.current
        await client.close()
        return (reply, synced)
    }

    @Test("a message in memory is answered 250 only after the journal sync that made it durable, then stored and queued")
    func replyFollowsTheJournalSync() async throws {
        let syncs = JournalSyncs()
        let intake = try Intake(syncs: syncs)
        #expect(intake.dropBox.deliversDirectly)
        var answer: (reply: String, syncs: Int) = ("", 0)
        try await withRunningServer(sink: intake.dropBox) { port, _ in
            answer = try await Self.send("Subject: durable\r\n\r\nBEGIN:VCALENDAR\r\n", port: port, syncs: syncs)
        }
        #expect(answer.syncs == 1, "the 250 came before its journal record was synced")
        let prefix = "250 2.0.0 Ok: queued as "
        try #require(answer.reply.hasPrefix(prefix), "\(answer.reply)")
        let messageId = answer.reply.dropFirst(prefix.count).trimmingCharacters(in: .newlines)
        let object = String(decoding: try await intake.store.get(key: "inbound/\(messageId)").bytes, as: UTF8.self)
        #expect(object.hasPrefix("Received: from client.example ([127.0.0.1])\r\n"))
        #expect(object.hasSuffix("\r\nSubject: durable\r\n\r\nBEGIN:VCALENDAR\r\n"))
        var messages: [QueueMessage] = []
        let deadline = Date().addingTimeInterval(20)
        while messages.isEmpty && Date() < deadline {
            messages = try await intake.queue.receive(maxMessages: 10, visibilityTimeout: 30, waitTime: 1)
        }
        #expect(messages.count == 1)
        #expect(messages.first?.body.contains("inbound/\(messageId)") == true)
    }

    @Test("a message the store cannot write is answered 451 on the direct path")
    func storeFailureIs451() async throws {
        let syncs = JournalSyncs()
        let intake = try Intake(syncs: syncs)
        // Object files cannot be created where a file stands in for their directory.
        #expect(FileManager.default.createFile(atPath: intake.directory.file("objects/inbound"), contents: Data("in the way".utf8)))
        var answer: (reply: String, syncs: Int) = ("", 0)
        try await withRunningServer(sink: intake.dropBox) { port, _ in
            answer = try await Self.send("Subject: lost\r\n\r\n", port: port, syncs: syncs)
        }
        #expect(SMTPTestClient.code(of: answer.reply) == "451 4.3.0", "\(answer.reply)")
    }
}
