import Foundation
import Invites
import Testing

/// Every `ParseLimits` bound turns a message over it into a failure naming the limit, before
/// the expensive part of parsing (GMime, libical, time zone expansion) runs.
@Suite("Parse limits")
struct ParseLimitsTests {
    static func parse(_ message: [UInt8], limits: ParseLimits = .default) -> InviteParseResult {
        InviteParser.parse(TestMessage.input(message), limits: limits)
    }

    static func reason(_ result: InviteParseResult) -> String {
        result.failure?.reason ?? "no failure: \(result)"
    }

    static func zoneCalendar(rule: String, zoneStart: String = "19700101T000000", eventYear: Int = 2026) -> String {
        TestMessage.calendar(method: "REQUEST", """
            BEGIN:VTIMEZONE
            TZID:Hostile
            BEGIN:STANDARD
            DTSTART:\(zoneStart)
            RRULE:\(rule)
            TZOFFSETFROM:+0100
            TZOFFSETTO:+0000
            END:STANDARD
            END:VTIMEZONE
            \(TestMessage.event(start: "DTSTART;TZID=Hostile:\(eventYear)0301T100000", end: "DTEND;TZID=Hostile:\(eventYear)0301T110000"))
            """.replacingOccurrences(of: "\n", with: "\r\n"))
    }

    @Test("a VTIMEZONE rule finer than monthly is refused, naming the zone and the frequency",
          arguments: ["SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY"])
    func tooFrequentZoneRule(frequency: String) {
        let result = Self.parse(TestMessage.singlePart(Self.zoneCalendar(rule: "FREQ=\(frequency)")))
        #expect(Self.reason(result).contains("time zone Hostile"))
        #expect(Self.reason(result).contains("FREQ=\(frequency)"))
    }

    @Test("monthly and yearly zone rules are used", arguments: ["MONTHLY", "YEARLY"])
    func monthlyAndYearlyZoneRules(frequency: String) throws {
        let result = Self.parse(TestMessage.singlePart(Self.zoneCalendar(rule: "FREQ=\(frequency)")))
        let request = try #require(result.requests?.first, "\(result)")
        // The zone is +0000 after its first change: 10:00 local is 10:00Z.
        #expect(request.start?.compact == "20260301T100000Z")
    }

    @Test("a yearly rule that changes every minute is over the transition limit")
    func yearlyRuleEveryMinute() {
        let rule = "FREQ=YEARLY;BYMONTH=1,2,3,4,5,6,7,8,9,10,11,12;BYHOUR=" + (0..<24).map(String.init).joined(separator: ",")
            + ";BYMINUTE=" + (0..<60).map(String.init).joined(separator: ",")
        let result = Self.parse(TestMessage.singlePart(Self.zoneCalendar(rule: rule)))
        #expect(Self.reason(result).contains("more than \(ParseLimits.defaultMaximumTimeZoneTransitions) offset changes"))
    }

    @Test("transitions are counted up to the year libical expands to: the event's year decides")
    func transitionsCountUpToTheEventsYear() {
        // A monthly rule from 1900: about 1,600 changes up to 2031, about 8,400 up to 2600.
        let limits = ParseLimits(maximumTimeZoneTransitions: 5_000)
        let near = Self.parse(TestMessage.singlePart(Self.zoneCalendar(rule: "FREQ=MONTHLY", zoneStart: "19000101T000000")), limits: limits)
        #expect(near.requests?.count == 1, "\(near)")
        let far = Self.parse(
            TestMessage.singlePart(Self.zoneCalendar(rule: "FREQ=MONTHLY", zoneStart: "19000101T000000", eventYear: 2500)), limits: limits)
        #expect(Self.reason(far).contains("more than 5000 offset changes"))
    }

    @Test("more attendees than the limit")
    func tooManyAttendees() {
        let attendees = (0..<11).map { "ATTENDEE:mailto:person\($0)@example.org" }.joined(separator: "\r\n")
        let message = TestMessage.singlePart(TestMessage.calendar(method: "REQUEST", TestMessage.event(extra: attendees)))
        // TestMessage.event has one attendee of its own: 12 in all.
        #expect(Self.parse(message, limits: ParseLimits(maximumAttendees: 12)).requests?.count == 1)
        #expect(Self.reason(Self.parse(message, limits: ParseLimits(maximumAttendees: 11))).contains("more than 11 attendees"))
    }

    @Test("more events than the limit in a PUBLISH")
    func tooManyEvents() {
        let events = (0..<6).map { TestMessage.event(uid: "event-\($0)@example.com") }.joined(separator: "\r\n")
        let message = TestMessage.singlePart(TestMessage.calendar(method: "PUBLISH", events), contentTypeMethod: "PUBLISH")
        #expect(Self.parse(message, limits: ParseLimits(maximumEvents: 6)).requests?.count == 6)
        #expect(Self.reason(Self.parse(message, limits: ParseLimits(maximumEvents: 5))).contains("more than 5 events"))
    }

    @Test("more components than the limit")
    func tooManyComponents() {
        let alarms = (0..<5).map { _ in "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT5M\r\nEND:VALARM" }.joined(separator: "\r\n")
        let message = TestMessage.singlePart(TestMessage.calendar(method: "REQUEST", TestMessage.event(extra: alarms)))
        #expect(Self.parse(message, limits: ParseLimits(maximumCalendarComponents: 7)).requests?.count == 1)
        #expect(Self.reason(Self.parse(message, limits: ParseLimits(maximumCalendarComponents: 6))).contains("more than 6 components"))
    }

    @Test("more changed instances of one event than the limit")
    func tooManyOverrides() {
        let overrides = (1...3).map {
            TestMessage.event(uid: "series@example.com", start: "DTSTART:2024010\($0 + 2)T150000Z", extra: "RECURRENCE-ID:2024010\($0 + 2)T150000Z")
        }
        let body = ([TestMessage.event(uid: "series@example.com", extra: "RRULE:FREQ=DAILY")] + overrides).joined(separator: "\r\n")
        let message = TestMessage.singlePart(TestMessage.calendar(method: "REQUEST", body))
        #expect(Self.parse(message, limits: ParseLimits(maximumOverrides: 3)).requests?.first?.overrides.count == 3)
        #expect(Self.reason(Self.parse(message, limits: ParseLimits(maximumOverrides: 2))).contains("more than 2 changed instances"))
    }

    static func nested(depth: Int) -> [UInt8] {
        var inner = "Content-Type: text/calendar; method=REQUEST\r\n\r\n" + TestMessage.calendar(method: "REQUEST", TestMessage.event())
        for level in (0..<depth).reversed() {
            inner = "Content-Type: multipart/mixed; boundary=\"level\(level)\"\r\n\r\n--level\(level)\r\n\(inner)\r\n--level\(level)--\r\n"
        }
        return Array(("From: olga@example.com\r\nSubject: nested\r\nMIME-Version: 1.0\r\n" + inner).utf8)
    }

    @Test("multiparts nested deeper than the limit")
    func tooDeep() {
        #expect(Self.parse(Self.nested(depth: 4), limits: ParseLimits(maximumMIMEDepth: 4)).requests?.count == 1)
        #expect(Self.reason(Self.parse(Self.nested(depth: 5), limits: ParseLimits(maximumMIMEDepth: 4))).contains("more than 4 levels"))
        // 5,000 levels take GMime minutes; refused before GMime sees them.
        #expect(Self.reason(Self.parse(Self.nested(depth: 5_000))).contains("levels deep"))
    }

    static func wide(parts: Int, boundaryParameter: String = "boundary=\"w\"") -> [UInt8] {
        var body = (0..<parts).map { "--w\r\nContent-Type: text/plain\r\n\r\npart \($0)\r\n" }.joined()
        body += "--w\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\n" + TestMessage.calendar(method: "REQUEST", TestMessage.event()) + "--w--\r\n"
        return Array(("From: olga@example.com\r\nSubject: wide\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; \(boundaryParameter)\r\n\r\n" + body).utf8)
    }

    @Test("more MIME parts than the limit, the boundary declared plainly or in RFC 2231 form")
    func tooManyParts() {
        #expect(Self.parse(Self.wide(parts: 8), limits: ParseLimits(maximumMIMEParts: 10)).requests?.count == 1)
        #expect(Self.reason(Self.parse(Self.wide(parts: 10), limits: ParseLimits(maximumMIMEParts: 10))).contains("more than 10 MIME parts"))
        let extended = Self.wide(parts: 10, boundaryParameter: "boundary*0=\"w\"")
        #expect(Self.reason(Self.parse(extended, limits: ParseLimits(maximumMIMEParts: 10))).contains("more than 10 MIME parts"))
    }

    @Test("a parse past its timeout stops at the next stage with the timeout as reason")
    func timeout() {
        let message = TestMessage.singlePart(TestMessage.calendar(method: "REQUEST", TestMessage.event()))
        let result = Self.parse(message, limits: ParseLimits(timeout: .zero))
        #expect(Self.reason(result).contains("took longer than the 0 s allowed"))
        #expect(result.failure?.requestId == "msg-0001")
        #expect(Self.parse(message).requests?.count == 1)
    }
}
