import Foundation
import Invites
import Notifications
import Testing

/// The two parsing defects of issue 9: a fold inside a UTF-8 character, and Outlook's all-day
/// events written as midnight-to-midnight DATE-TIMEs.
@Suite("Folding and Outlook all-day events")
struct FoldingAndAllDayTests {
    /// `SUMMARY:Réunion café` folded inside the two octets of each "é".
    static let splitSummary: [UInt8] = Array("SUMMARY:R".utf8) + [0xC3, 0x0D, 0x0A, 0x20, 0xA9]
        + Array("union caf".utf8) + [0xC3, 0x0D, 0x0A, 0x09, 0xA9]

    static func calendar(summary: [UInt8]) -> [UInt8] {
        let event = TestMessage.event().replacingOccurrences(of: "SUMMARY:Planning", with: "@SUMMARY@")
        let text = TestMessage.calendar(method: "REQUEST", event)
        let halves = text.components(separatedBy: "@SUMMARY@")
        return Array(halves[0].utf8) + summary + Array(halves[1].utf8)
    }

    @Test("a UTF-8 character split by a fold is decoded whole",
          arguments: ["bare", "8bit", "base64", "latin1-declared"])
    func foldInsideACharacter(form: String) throws {
        let calendar = Self.calendar(summary: Self.splitSummary)
        let message: [UInt8]
        switch form {
        case "bare": message = calendar
        case "base64":
            message = Array("From: olga@example.com\r\nMIME-Version: 1.0\r\nContent-Type: text/calendar; charset=utf-8; method=REQUEST\r\nContent-Transfer-Encoding: base64\r\n\r\n".utf8)
                + Array(Data(calendar).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed]).utf8) + [0x0D, 0x0A]
        default:
            let charset = form == "8bit" ? "utf-8" : "iso-8859-1"
            message = Array("From: olga@example.com\r\nMIME-Version: 1.0\r\nContent-Type: text/calendar; charset=\(charset); method=REQUEST\r\n\r\n".utf8) + calendar
        }
        let request = try #require(TestMessage.parse(message).requests?.first)
        if form == "latin1-declared" {
            // Declared Latin-1: each octet is its own character, as declared.
            #expect(request.summary == "R\u{C3}\u{A9}union caf\u{C3}\u{A9}")
        } else {
            #expect(request.summary == "Réunion café")
        }
    }

    static func outlookEvent(start: String, end: String?, allDay: String? = "TRUE", extra: String = "") -> [UInt8] {
        var lines = ["BEGIN:VEVENT", "UID:outlook-all-day@example.com", "DTSTAMP:20250601T120000Z", start]
        if let end { lines.append(end) }
        if let allDay { lines.append("X-MICROSOFT-CDO-ALLDAYEVENT:\(allDay)") }
        if !extra.isEmpty { lines.append(extra) }
        lines += ["SUMMARY:Offsite", "END:VEVENT"]
        let zone = """
            BEGIN:VTIMEZONE\r\nTZID:W. Europe Standard Time\r\nBEGIN:STANDARD\r\nDTSTART:16010101T030000\r\n\
            TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\nEND:STANDARD\r\n\
            BEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n\
            RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE
            """
        return TestMessage.singlePart(TestMessage.calendar(method: "REQUEST", zone + "\r\n" + lines.joined(separator: "\r\n")))
    }

    @Test("Outlook's midnight-to-midnight all-day event is reported as all-day, with dates")
    func outlookAllDay() throws {
        let message = Self.outlookEvent(
            start: "DTSTART;TZID=W. Europe Standard Time:20250610T000000", end: "DTEND;TZID=W. Europe Standard Time:20250612T000000")
        let request = try #require(TestMessage.parse(message).requests?.first)
        #expect(request.start == EventTime(year: 2025, month: 6, day: 10, kind: .date))
        #expect(request.end == EventTime(year: 2025, month: 6, day: 12, kind: .date))
        let json = request.json(route: .create)
        #expect(json.contains("\"all_day\":true"))
        #expect(json.contains("\"dtstart\":\"20250610\""))
        #expect(json.contains("\"dtend\":\"20250612\""))
    }

    @Test("an Outlook all-day event with DURATION in days")
    func outlookAllDayWithDuration() throws {
        let message = Self.outlookEvent(start: "DTSTART;TZID=W. Europe Standard Time:20250610T000000", end: "DURATION:P1D")
        let request = try #require(TestMessage.parse(message).requests?.first)
        #expect(request.start?.compact == "20250610")
        #expect(request.end?.compact == "20250611")
    }

    @Test("without the flag, or not at midnight, or with the flag FALSE, times stay instants",
          arguments: [
            ("20250610T000000", "20250611T000000", nil), ("20250610T090000", "20250611T000000", "TRUE"),
            ("20250610T000000", "20250611T000000", "FALSE"),
          ] as [(String, String, String?)])
    func notAllDay(start: String, end: String, flag: String?) throws {
        let message = Self.outlookEvent(
            start: "DTSTART;TZID=W. Europe Standard Time:\(start)", end: "DTEND;TZID=W. Europe Standard Time:\(end)", allDay: flag)
        let request = try #require(TestMessage.parse(message).requests?.first)
        #expect(request.start?.kind == .utc)
        #expect(request.end?.kind == .utc)
    }
}
