import Backends
import Consumer
import Foundation
import Invites
import Notifications
import Testing

/// Issue 9: no single message can stall the consumer. A hostile message is answered on the
/// failure route within the parse timeout (never the dead-letter queue), and parses of
/// different messages run in parallel, so other invites keep flowing meanwhile.
@Suite("Bounded parsing in the consumer", .timeLimit(.minutes(3)))
struct BoundedParsingTests {
    /// The invite of issue 9: a VTIMEZONE changing every second since 1970 (libical would
    /// expand it to billions of changes before converting the start).
    static let secondlyZone: [UInt8] = Array("""
        From: Mallory <mallory@example.com>\r
        MIME-Version: 1.0\r
        Content-Type: text/calendar; method=REQUEST\r
        \r
        BEGIN:VCALENDAR\r
        VERSION:2.0\r
        PRODID:-//hostile//EN\r
        METHOD:REQUEST\r
        BEGIN:VTIMEZONE\r
        TZID:Evil\r
        BEGIN:STANDARD\r
        DTSTART:19700101T000000\r
        RRULE:FREQ=SECONDLY\r
        TZOFFSETFROM:+0100\r
        TZOFFSETTO:+0000\r
        END:STANDARD\r
        END:VTIMEZONE\r
        BEGIN:VEVENT\r
        UID:evil-1@example.com\r
        DTSTAMP:20260101T000000Z\r
        DTSTART;TZID=Evil:20260301T100000\r
        DTEND;TZID=Evil:20260301T110000\r
        SUMMARY:evil\r
        END:VEVENT\r
        END:VCALENDAR\r

        """.utf8)

    /// A legal calendar that keeps libical's parser busy for seconds in one call: properties
    /// with many parameters each (libical's time grows with the square of their number).
    static func slowForLibical(lines: Int, parameters: Int = 100) -> [UInt8] {
        let parameters = (0..<parameters).map { "P\($0)=v" }.joined(separator: ";")
        let extra = String(repeating: "X-SLOW;\(parameters):v\r\n", count: lines)
        return Array(("""
            BEGIN:VCALENDAR\r
            VERSION:2.0\r
            PRODID:-//slow//EN\r
            METHOD:REQUEST\r
            BEGIN:VEVENT\r
            UID:slow@example.com\r
            DTSTAMP:20260101T000000Z\r
            DTSTART:20260301T100000Z\r

            """ + extra + "END:VEVENT\r\nEND:VCALENDAR\r\n").utf8)
    }

    @Test func theHostileInviteGoesToTheFailureRouteWhileAnotherIsPublished() async throws {
        let fixture = try PipelineFixture()
        try await fixture.deliver(Self.secondlyZone, key: "incoming/msg-hostile")
        try await fixture.deliver(InviteMessages.request(uid: "normal@example.com", sequence: 0), key: "incoming/msg-normal")
        try await fixture.withRunningConsumer {
            try await fixture.eventually("both are answered and deleted") {
                try await fixture.hasPublished(1, to: .failure) && fixture.published(.create).count == 1
            }
        }
        let failure = try #require(try fixture.published(.failure).first)
        #expect(failure.MessageAttributes["uid"]?.Value == "msg-hostile")
        #expect(failure.Message.contains("FREQ=SECONDLY"))
        #expect(try fixture.published(.create).first?.event.uid == "msg-normal")
        #expect(try await fixture.queue.statistics() == SQLiteMessageQueue.Statistics(visible: 0, inFlight: 0, deadLetters: 0))
    }

    @Test func aSlowMessageDoesNotDelayAnother() async throws {
        let fixture = try PipelineFixture()
        try await fixture.deliver(Self.slowForLibical(lines: 40_000), key: "incoming/msg-slow")
        try await fixture.withRunningConsumer {
            try await fixture.eventually("the slow message is received") { fixture.logged("Message received") }
            try await fixture.deliver(InviteMessages.request(uid: "quick@example.com", sequence: 0), key: "incoming/msg-quick")
            try await fixture.eventually("the quick message is published") { try fixture.published(.create).count >= 1 }
            // With parsing serialized (issue 9: one global lock) the quick one waited for the slow one.
            #expect(try fixture.published(.create).map { try $0.event.uid } == ["msg-quick"])
            try await fixture.eventually("the slow message is published too") { try fixture.published(.create).count == 2 }
        }
    }

    @Test func inProcessParsingAnswersAtTheTimeoutWithoutWaitingForLibical() async throws {
        // About 6 MB: decoded and counted well within the second, then one libical call of ~10 s.
        let parsing = InProcessInviteParsing(limits: ParseLimits(timeout: .seconds(1)))
        let input = InviteInput(message: Self.slowForLibical(lines: 50, parameters: 8_000), bucket: "b", key: "incoming/msg-slow", envelopeSender: "olivia@example.com")
        let result = await parsing.parse(input)
        guard case .failure(let failure) = result else {
            Issue.record("expected the timeout failure, got \(result)")
            return
        }
        // "reading the message" is the stage named only when the wait, not the parse, gave up.
        #expect(failure.reason.contains("took longer than the 1 s allowed (it stopped while reading the message)"), "\(failure.reason)")
        #expect(failure.requestId == "msg-slow")
        #expect(failure.mailto == "olivia@example.com")
    }
}
