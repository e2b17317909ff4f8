@testable import Consumer
import Foundation
import Invites
import Notifications
import Testing

/// The trimming itself, on events and failure notices far beyond SNS's 256 KiB.
@Suite("TopicMessageSizeLimit")
struct TopicMessageSizeLimitTests {
    static func escapedSize(_ text: String) throws -> Int {
        try JSONSerialization.data(withJSONObject: [text], options: []).count - 2
    }

    static func object(_ json: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    }

    static let start = EventTime(year: 2026, month: 12, day: 2, hour: 14, kind: .utc)

    @Test func fiveThousandAttendeesAreCutToFit() throws {
        let attendees = (0..<5_000).map {
            EventAttendee(email: "person-\($0)@example.com", name: "Person \"\($0)\" of the long list", partstat: "NEEDS-ACTION", role: "REQ-PARTICIPANT", rsvp: true)
        }
        let request = EventRequest(
            method: "request", requestId: "msg-big", originalUID: "big@example.com", sequence: 0, summary: "All hands",
            start: Self.start, attendees: attendees, bucket: "invites", key: "inbound/msg-big")
        #expect(!TopicMessageSizeLimit.fits(request.json(route: .create)))
        let (json, truncated) = TopicMessageSizeLimit.json(for: request, route: .create)
        #expect(truncated)
        #expect(TopicMessageSizeLimit.fits(json))
        #expect(try Self.escapedSize(json) + TopicMessageSizeLimit.envelopeReserve <= 262_144)
        let object = try Self.object(json)
        #expect(object["truncated"] as? Bool == true)
        #expect(object["key"] as? String == "inbound/msg-big")
        #expect(object["bucket"] as? String == "invites")
        let kept = try #require(object["attendees"] as? [[String: Any]])
        #expect(!kept.isEmpty && kept.count < 5_000)
        #expect(kept.first?["email"] as? String == "person-0@example.com")
    }

    @Test func overridesWithLongDescriptionsAreCutToFit() throws {
        let overrides = (1...40).map { day in
            EventOverride(
                recurrenceId: EventTime(year: 2026, month: 12, day: day % 28 + 1, hour: 14, kind: .utc), sequence: 1, start: nil, end: nil,
                summary: "Session \(day)", description: String(repeating: "Notes <and> \"quotes\" / ", count: 2_000), location: nil,
                status: nil, attendees: [])
        }
        let request = EventRequest(
            method: "request", requestId: "msg-series", originalUID: "series@example.com", sequence: 2, start: Self.start,
            rrule: "FREQ=DAILY;COUNT=40", overrides: overrides, bucket: "invites", key: "inbound/msg-series")
        let (json, truncated) = TopicMessageSizeLimit.json(for: request, route: .update)
        #expect(truncated)
        #expect(try Self.escapedSize(json) + TopicMessageSizeLimit.envelopeReserve <= 262_144)
        #expect(try Self.object(json)["key"] as? String == "inbound/msg-series")
    }

    @Test func anOrdinaryEventIsUntouched() {
        let request = EventRequest(
            method: "request", requestId: "msg-1", originalUID: "one@example.com", sequence: 0, summary: "Planning",
            description: "Agenda to follow.", start: Self.start, bucket: "invites", key: "inbound/msg-1")
        let (json, truncated) = TopicMessageSizeLimit.json(for: request, route: .create)
        #expect(!truncated)
        #expect(json == request.json(route: .create))
    }

    @Test func aFailureNoticeAlwaysFits() throws {
        let failure = InviteFailure(
            reason: "The calendar part could not be read: " + String(repeating: "\u{7}bad\"", count: 80_000),
            requestId: "msg-bad", mailto: String(repeating: "a", count: 300_000) + "@example.com", method: "request",
            bucket: "invites", key: "inbound/msg-bad")
        let (json, truncated) = TopicMessageSizeLimit.json(for: failure)
        #expect(truncated)
        #expect(try Self.escapedSize(json) + TopicMessageSizeLimit.envelopeReserve <= 262_144)
        let object = try Self.object(json)
        #expect(object["truncated"] as? Bool == true)
        #expect((object["reason"] as? String)?.hasPrefix("The calendar part could not be read: ") == true)
        #expect(object["key"] as? String == "inbound/msg-bad")
        #expect(object["uid"] as? String == "msg-bad")
    }
}
