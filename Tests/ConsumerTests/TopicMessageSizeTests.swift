import Backends
import Consumer
import Foundation
import Notifications
import Testing

/// SNS takes at most 256 KiB: an event that would be larger is published with its long fields
/// trimmed, `truncated: true`, and `bucket`/`key` pointing to the whole message.
@Suite("Topic message size (embedded backends)", .timeLimit(.minutes(3)))
struct TopicMessageSizeTests {
    /// The size of `text` as a JSON string value, as SNS's envelope carries it.
    static func escapedSize(_ text: String) throws -> Int {
        try JSONSerialization.data(withJSONObject: [text], options: []).count - 2
    }

    @Test func aLongAgendaIsPublishedTruncatedWithAPointerToTheMessage() async throws {
        let fixture = try PipelineFixture()
        try await fixture.deliver(InviteMessages.large(uid: "agenda@example.com", descriptionSize: 156_000), key: "inbound/msg-agenda")
        try await fixture.withRunningConsumer {
            try await fixture.eventually("the event is published") { try await fixture.hasPublished(1, to: .create) }
        }
        let line = try #require(try fixture.published(.create).first)
        #expect(try Self.escapedSize(line.Message) < 262_144 - 8_192)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.Message.utf8)) as? [String: Any])
        #expect(object["truncated"] as? Bool == true)
        #expect(object["bucket"] as? String == PipelineFixture.bucket)
        #expect(object["key"] as? String == "inbound/msg-agenda")
        #expect(object["original_uid"] as? String == "agenda@example.com")
        let description = try #require(object["description"] as? String)
        #expect(description.count < 156_000)
        #expect(description.count >= 16_384)
    }

    @Test func anOrdinaryEventIsNotTruncated() async throws {
        let fixture = try PipelineFixture()
        try await fixture.deliver(InviteMessages.large(uid: "short@example.com", descriptionSize: 20_000), key: "msg-short")
        try await fixture.withRunningConsumer {
            try await fixture.eventually("the event is published") { try await fixture.hasPublished(1, to: .create) }
        }
        let line = try #require(try fixture.published(.create).first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.Message.utf8)) as? [String: Any])
        #expect(object["truncated"] == nil)
        #expect((object["description"] as? String)?.count ?? 0 >= 19_900)
    }
}
