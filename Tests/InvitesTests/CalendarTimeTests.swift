import Invites
import Notifications
import Testing

/// DTSTART/DTEND resolution: VTIMEZONEs (Windows names included), the system zone database, floating, all-day.
@Suite("Calendar times")
struct CalendarTimeTests {
    static let westEuropeVTIMEZONE = """
        BEGIN:VTIMEZONE\r
        TZID:W. Europe Standard Time\r
        BEGIN:STANDARD\r
        DTSTART:16010101T030000\r
        TZOFFSETFROM:+0200\r
        TZOFFSETTO:+0100\r
        RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10\r
        END:STANDARD\r
        BEGIN:DAYLIGHT\r
        DTSTART:16010101T020000\r
        TZOFFSETFROM:+0100\r
        TZOFFSETTO:+0200\r
        RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3\r
        END:DAYLIGHT\r
        END:VTIMEZONE
        """

    private func onlyRequest(_ result: InviteParseResult) throws -> EventRequest {
        let requests = try #require(result.requests, "expected requests, got \(result)")
        try #require(requests.count == 1)
        return requests[0]
    }

    @Test("a Windows zone defined by its VTIMEZONE, on both sides of the DST change")
    func windowsZoneAcrossDST() throws {
        let winter = TestMessage.event(
            uid: "winter", start: "DTSTART;TZID=\"W. Europe Standard Time\":20240329T100000",
            end: "DTEND;TZID=\"W. Europe Standard Time\":20240329T110000")
        let summer = TestMessage.event(
            uid: "summer", start: "DTSTART;TZID=W. Europe Standard Time:20240402T100000",
            end: "DTEND;TZID=W. Europe Standard Time:20240402T110000")
        let winterRequest = try self.onlyRequest(TestMessage.parse(TestMessage.singlePart(
            TestMessage.calendar(method: "REQUEST", Self.westEuropeVTIMEZONE + "\r\n" + winter))))
        #expect(winterRequest.start?.compact == "20240329T090000Z")
        #expect(winterRequest.end?.compact == "20240329T100000Z")
        #expect(winterRequest.start?.tzid == "W. Europe Standard Time")
        let summerRequest = try self.onlyRequest(TestMessage.parse(TestMessage.singlePart(
            TestMessage.calendar(method: "REQUEST", Self.westEuropeVTIMEZONE + "\r\n" + summer))))
        #expect(summerRequest.start?.compact == "20240402T080000Z")
        #expect(summerRequest.start?.iso8601 == "2024-04-02T08:00:00Z")
    }

    @Test("an IANA TZID without VTIMEZONE uses the system zone database")
    func ianaZoneWithoutVTIMEZONE() throws {
        let event = TestMessage.event(
            start: "DTSTART;TZID=America/New_York:20240115T090000", end: "DTEND;TZID=America/New_York:20240715T090000")
        let request = try self.onlyRequest(TestMessage.parse(TestMessage.singlePart(TestMessage.calendar(method: "REQUEST", event))))
        #expect(request.start?.compact == "20240115T140000Z")
        #expect(request.end?.compact == "20240715T130000Z")
    }

    @Test("a Windows TZID without VTIMEZONE is mapped to its IANA zone")
    func windowsZoneWithoutVTIMEZONE() throws {
        let event = TestMessage.event(
            start: "DTSTART;TZID=\"Pacific Standard Time\":20240701T090000", end: nil)
        let request = try self.onlyRequest(TestMessage.parse(TestMessage.singlePart(TestMessage.calendar(method: "REQUEST", event))))
        #expect(request.start?.compact == "20240701T160000Z")
        #expect(request.start?.kind == .utc)
    }

    @Test("a floating time is kept as written and flagged")
    func floatingTime() throws {
        let event = TestMessage.event(start: "DTSTART:20240102T090000", end: "DTEND:20240102T100000")
        let request = try self.onlyRequest(TestMessage.parse(TestMessage.singlePart(TestMessage.calendar(method: "REQUEST", event))))
        #expect(request.start?.kind == .floating)
        #expect(request.start?.compact == "20240102T090000")
        #expect(request.start?.iso8601 == "2024-01-02T09:00:00")
        #expect(request.json(route: .create).contains("\"floating\":true"))
    }

    @Test("an all-day event keeps its dates")
    func allDay() throws {
        let event = TestMessage.event(start: "DTSTART;VALUE=DATE:20240229", end: "DTEND;VALUE=DATE:20240301")
        let request = try self.onlyRequest(TestMessage.parse(TestMessage.singlePart(TestMessage.calendar(method: "REQUEST", event))))
        #expect(request.start == EventTime(year: 2024, month: 2, day: 29, kind: .date))
        #expect(request.end?.compact == "20240301")
        #expect(request.start?.iso8601 == "2024-02-29")
        #expect(request.json(route: .create).contains("\"all_day\":true"))
    }

    @Test("DURATION gives the end when DTEND is absent")
    func duration() throws {
        let event = TestMessage.event(
            start: "DTSTART;TZID=Europe/Berlin:20240330T233000", end: "DURATION:PT2H")
        let request = try self.onlyRequest(TestMessage.parse(TestMessage.singlePart(TestMessage.calendar(method: "REQUEST", event))))
        #expect(request.start?.compact == "20240330T223000Z")
        #expect(request.end?.compact == "20240331T003000Z")
    }

    @Test("DURATION hours are exact and days nominal across a DST change")
    func durationAcrossDST() throws {
        let exact = TestMessage.event(start: "DTSTART;TZID=Europe/Berlin:20240331T013000", end: "DURATION:PT1H")
        let exactRequest = try self.onlyRequest(TestMessage.parse(TestMessage.singlePart(TestMessage.calendar(method: "REQUEST", exact))))
        #expect(exactRequest.start?.compact == "20240331T003000Z")
        #expect(exactRequest.end?.compact == "20240331T013000Z")
        let nominal = TestMessage.event(start: "DTSTART;TZID=Europe/Berlin:20240330T120000", end: "DURATION:P1D")
        let nominalRequest = try self.onlyRequest(TestMessage.parse(TestMessage.singlePart(TestMessage.calendar(method: "REQUEST", nominal))))
        #expect(nominalRequest.start?.compact == "20240330T110000Z")
        #expect(nominalRequest.end?.compact == "20240331T100000Z")
        let allDay = TestMessage.event(start: "DTSTART;VALUE=DATE:20240330", end: "DURATION:P2D")
        let allDayRequest = try self.onlyRequest(TestMessage.parse(TestMessage.singlePart(TestMessage.calendar(method: "REQUEST", allDay))))
        #expect(allDayRequest.end?.compact == "20240401")
    }

    /// A VTIMEZONE named `Office` whose only rule is the fixed offset `offset`.
    static func fixedZone(offset: String, name: String = "Office") -> String {
        """
        BEGIN:VTIMEZONE\r
        TZID:\(name)\r
        BEGIN:STANDARD\r
        DTSTART:16010101T000000\r
        TZOFFSETFROM:\(offset)\r
        TZOFFSETTO:\(offset)\r
        END:STANDARD\r
        END:VTIMEZONE
        """
    }

    @Test("VTIMEZONEs are reused by their text, not their TZID: one name with two meanings converts each its own way")
    func reusedZonesKeyedByText() throws {
        let event = TestMessage.event(start: "DTSTART;TZID=Office:20261201T100000", end: "DTEND;TZID=Office:20261201T110000")
        func start(offset: String) throws -> String? {
            try self.onlyRequest(TestMessage.parse(TestMessage.singlePart(
                TestMessage.calendar(method: "REQUEST", Self.fixedZone(offset: offset) + "\r\n" + event)))).start?.compact
        }
        // Each zone parsed several times, interleaved: the later parses use the kept zone.
        for _ in 0..<3 {
            #expect(try start(offset: "+0500") == "20261201T050000Z")
            #expect(try start(offset: "-0300") == "20261201T130000Z")
            #expect(try start(offset: "+0000") == "20261201T100000Z")
        }
    }

    @Test("a kept Outlook zone converts the same on later parses, across the DST change")
    func reusedOutlookZone() throws {
        for _ in 0..<3 {
            let summer = TestMessage.event(
                uid: "summer", start: "DTSTART;TZID=W. Europe Standard Time:20310402T100000",
                end: "DTEND;TZID=W. Europe Standard Time:20310402T110000")
            let request = try self.onlyRequest(TestMessage.parse(TestMessage.singlePart(
                TestMessage.calendar(method: "REQUEST", Self.westEuropeVTIMEZONE + "\r\n" + summer))))
            #expect(request.start?.compact == "20310402T080000Z")
            let winter = TestMessage.event(
                uid: "winter", start: "DTSTART;TZID=W. Europe Standard Time:20241201T100000",
                end: "DTEND;TZID=W. Europe Standard Time:20241201T110000")
            let winterRequest = try self.onlyRequest(TestMessage.parse(TestMessage.singlePart(
                TestMessage.calendar(method: "REQUEST", Self.westEuropeVTIMEZONE + "\r\n" + winter))))
            #expect(winterRequest.start?.compact == "20241201T090000Z")
        }
    }
}
