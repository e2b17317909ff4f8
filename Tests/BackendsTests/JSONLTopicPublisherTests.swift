import Backends
import Foundation
import Notifications
import TestSupport
import Testing

@Suite("JSONLTopicPublisher")
struct JSONLTopicPublisherTests {
    @Test("a publish appends one JSON line with every field")
    func lineShape() async throws {
        let directory = try TemporaryDirectory()
        let publisher = try JSONLTopicPublisher(directory: directory.file("topics"))
        let message = TopicMessage(
            defaultMessage: "{\"method\":\"REQUEST\"}", attributes: ["method": "REQUEST", "uid": "abc"],
            deduplicationId: "req-1#uid#0", subject: "New event")
        let messageId = try await publisher.publish(message, to: .create)
        let text = try String(contentsOfFile: directory.file("topics/create.jsonl"), encoding: .utf8)
        #expect(text.hasSuffix("\n"))
        let lines = text.split(separator: "\n")
        #expect(lines.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(object["MessageId"] as? String == messageId)
        #expect(object["Route"] as? String == "create")
        #expect(object["DeduplicationId"] as? String == "req-1#uid#0")
        #expect(object["Subject"] as? String == "New event")
        #expect(object["Message"] as? String == "{\"method\":\"REQUEST\"}")
        let timestamp = try #require(object["Timestamp"] as? String)
        #expect(timestamp.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil)
        let attributes = try #require(object["MessageAttributes"] as? [String: [String: String]])
        #expect(attributes == ["method": ["Type": "String", "Value": "REQUEST"], "uid": ["Type": "String", "Value": "abc"]])
    }

    @Test("a message without subject has Subject null")
    func nullSubject() async throws {
        let directory = try TemporaryDirectory()
        let publisher = try JSONLTopicPublisher(directory: directory.path)
        _ = try await publisher.publish(TopicMessage(defaultMessage: "{}", attributes: [:], deduplicationId: "d"), to: .failure)
        let text = try String(contentsOfFile: directory.file("failure.jsonl"), encoding: .utf8)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object["Subject"] is NSNull)
    }

    @Test("a file moved away keeps getting lines until reopenFiles, then a new one is created")
    func reopenAfterRotation() async throws {
        let directory = try TemporaryDirectory()
        let publisher = try JSONLTopicPublisher(directory: directory.path)
        func publish(_ id: String) async throws {
            _ = try await publisher.publish(TopicMessage(defaultMessage: id, attributes: [:], deduplicationId: id), to: .create)
        }
        func lines(_ name: String) throws -> Int {
            try String(contentsOfFile: directory.file(name), encoding: .utf8).split(separator: "\n").count
        }
        try await publish("one")
        try FileManager.default.moveItem(atPath: directory.file("create.jsonl"), toPath: directory.file("create.jsonl.1"))
        // The open file follows the rename, as a log file does.
        try await publish("two")
        #expect(try lines("create.jsonl.1") == 2)
        #expect(!FileManager.default.fileExists(atPath: directory.file("create.jsonl")))
        publisher.reopenFiles()
        try await publish("three")
        #expect(try lines("create.jsonl") == 1)
        #expect(try lines("create.jsonl.1") == 2)
    }

    @Test("concurrent publishes from two publishers on the same directory give whole lines")
    func concurrentAppends() async throws {
        let directory = try TemporaryDirectory()
        let first = try JSONLTopicPublisher(directory: directory.path)
        let second = try JSONLTopicPublisher(directory: directory.path)
        let count = 400
        let padding = String(repeating: "p", count: 3000)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<count {
                group.addTask {
                    let publisher = index % 2 == 0 ? first : second
                    _ = try await publisher.publish(
                        TopicMessage(defaultMessage: "\(index) \(padding)", attributes: ["i": "\(index)"], deduplicationId: "\(index)"),
                        to: .update)
                }
            }
            try await group.waitForAll()
        }
        let text = try String(contentsOfFile: directory.file("update.jsonl"), encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == count)
        var seen = Set<String>()
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let dedup = try #require(object["DeduplicationId"] as? String)
            #expect(object["Message"] as? String == "\(dedup) \(padding)")
            seen.insert(dedup)
        }
        #expect(seen.count == count)
    }
}
