import Invites
import Notifications
import Testing

/// Finding the calendar in a message, the iTIP rules, and the failure reasons.
@Suite("Invite parser")
struct InviteParserTests {
    @Test("a REQUEST gives one request with the message's facts")
    func simpleRequest() throws {
        let message = TestMessage.singlePart(
            TestMessage.calendar(method: "REQUEST", TestMessage.event(sequence: 0)),
            headers: "From: Olga <olga@example.com>\r\nReply-To: \"Desk, Front\" <desk@example.com>\r\nReturn-Path: <bounces@example.com>")
        let requests = try #require(TestMessage.parse(message).requests)
        let request = try #require(requests.first)
        #expect(requests.count == 1)
        #expect(request.method == "request")
        #expect(request.requestId == "msg-0001")
        #expect(request.originalUID == "event-1@example.com")
        #expect(request.mailto == "desk@example.com")
        #expect(request.returnPath == "bounces@example.com")
        #expect(request.organizer == EventOrganizer(email: "olga@example.com", name: "Olga Organizer", sentBy: nil))
        #expect(request.attendees == [EventAttendee(email: "ann@example.org", name: "Ann", partstat: "NEEDS-ACTION", role: "REQ-PARTICIPANT", rsvp: true)])
        #expect(request.prodid == "-//cis tests//EN")
        #expect(request.bucket == "test-bucket")
        #expect(request.key == "incoming/msg-0001")
        #expect(EventClassifier.route(for: request, isKnown: nil) == .create)
    }

    @Test("the requester falls back to From, then to the envelope sender")
    func requesterFallback() throws {
        let fromOnly = TestMessage.singlePart(
            TestMessage.calendar(method: "REQUEST", TestMessage.event()), headers: "From: =?UTF-8?Q?J=C3=B6rg?= <joerg@example.de>")
        #expect(TestMessage.parse(fromOnly).requests?.first?.mailto == "joerg@example.de")
        let noFrom = TestMessage.singlePart(TestMessage.calendar(method: "REQUEST", TestMessage.event()), headers: "X-Nothing: 1")
        let request = try #require(TestMessage.parse(noFrom, envelopeSender: "<env@example.net>").requests?.first)
        #expect(request.mailto == "env@example.net")
        #expect(request.returnPath == "env@example.net")
    }

    @Test("a body METHOD contradicting the Content-Type method= is a failure")
    func methodMismatch() throws {
        let message = TestMessage.singlePart(TestMessage.calendar(method: "CANCEL", TestMessage.event()), contentTypeMethod: "REQUEST")
        let failure = try #require(TestMessage.parse(message).failure)
        #expect(failure.reason.contains("METHOD:CANCEL"))
        #expect(failure.reason.contains("method=REQUEST"))
        #expect(failure.mailto == "olga@example.com")
    }

    @Test("the Content-Type method= stands in for a missing body METHOD")
    func methodFromContentType() throws {
        let message = TestMessage.singlePart(TestMessage.calendar(method: nil, TestMessage.event()), contentTypeMethod: "CANCEL")
        #expect(TestMessage.parse(message).requests?.first?.method == "cancel")
    }

    @Test("a REQUEST about two UIDs is a failure; a PUBLISH of two gives two requests")
    func severalUIDs() throws {
        let two = TestMessage.event(uid: "a@example.com") + "\r\n" + TestMessage.event(uid: "b@example.com")
        let request = TestMessage.singlePart(TestMessage.calendar(method: "REQUEST", two))
        let failure = try #require(TestMessage.parse(request).failure)
        #expect(failure.reason.contains("2 different events"))
        let publish = TestMessage.singlePart(TestMessage.calendar(method: "PUBLISH", two), contentTypeMethod: "PUBLISH")
        let requests = try #require(TestMessage.parse(publish).requests)
        #expect(requests.map(\.originalUID) == ["a@example.com", "b@example.com"])
        #expect(requests.allSatisfy { $0.method == "publish" })
        #expect(Set(requests.map(\.deduplicationId)).count == 2)
    }

    @Test("REFRESH, ADD and DECLINECOUNTER are unsupported", arguments: ["REFRESH", "ADD", "DECLINECOUNTER"])
    func unsupportedMethods(_ method: String) throws {
        let message = TestMessage.singlePart(TestMessage.calendar(method: method, TestMessage.event()), contentTypeMethod: method)
        let failure = try #require(TestMessage.parse(message).failure)
        #expect(failure.reason.contains("unsupported"))
        #expect(failure.method == method.lowercased())
    }

    @Test("a COUNTER routes to reply with the proposed times")
    func counter() throws {
        let event = TestMessage.event(sequence: 1, start: "DTSTART:20240105T100000Z", end: "DTEND:20240105T110000Z")
        let message = TestMessage.singlePart(TestMessage.calendar(method: "COUNTER", event), contentTypeMethod: "COUNTER")
        let request = try #require(TestMessage.parse(message).requests?.first)
        #expect(request.method == "counter")
        #expect(EventClassifier.route(for: request, isKnown: true) == .reply)
        let json = request.json(route: .reply)
        #expect(json.contains("\"proposed_dtstart\":\"20240105T100000Z\""))
        #expect(json.contains("\"proposed_dtend\":\"20240105T110000Z\""))
    }

    @Test("a REPLY carries the attendee's PARTSTAT")
    func reply() throws {
        let event = """
            BEGIN:VEVENT\r
            UID:event-1@example.com\r
            DTSTAMP:20240101T120000Z\r
            ORGANIZER:mailto:olga@example.com\r
            ATTENDEE;PARTSTAT=DECLINED:mailto:ann@example.org\r
            END:VEVENT
            """
        let message = TestMessage.singlePart(TestMessage.calendar(method: "REPLY", event), contentTypeMethod: "REPLY")
        let request = try #require(TestMessage.parse(message).requests?.first)
        #expect(request.attendees.map(\.partstat) == ["DECLINED"])
        #expect(EventClassifier.route(for: request, isKnown: nil) == .reply)
    }

    @Test("a recurring master with an overridden instance is one request")
    func overrides() throws {
        let master = TestMessage.event(
            start: "DTSTART;TZID=Europe/Zurich:20240108T090000", end: "DTEND;TZID=Europe/Zurich:20240108T093000",
            extra: "RRULE:FREQ=WEEKLY;COUNT=10;BYDAY=MO")
        let instance = TestMessage.event(
            start: "DTSTART;TZID=Europe/Zurich:20240116T100000", end: "DTEND;TZID=Europe/Zurich:20240116T103000",
            extra: "RECURRENCE-ID;TZID=Europe/Zurich:20240115T090000")
        let message = TestMessage.singlePart(TestMessage.calendar(method: "REQUEST", master + "\r\n" + instance))
        let request = try #require(TestMessage.parse(message).requests?.first)
        #expect(request.rrule == "FREQ=WEEKLY;COUNT=10;BYDAY=MO")
        #expect(request.recurrenceId == nil)
        #expect(request.overrides.count == 1)
        #expect(request.overrides.first?.recurrenceId.compact == "20240115T080000Z")
        #expect(request.overrides.first?.start?.compact == "20240116T090000Z")
    }

    @Test("unparseable or truncated iCalendar is a failure with libical's words")
    func truncated() throws {
        let truncated = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:2024"
        let failure = try #require(TestMessage.parse(TestMessage.singlePart(truncated)).failure)
        #expect(!failure.reason.isEmpty)
        let garbage = TestMessage.singlePart("this is not a calendar at all")
        #expect(TestMessage.parse(garbage).failure != nil)
    }

    @Test("a message without calendar data is a failure")
    func noCalendarPart() throws {
        let message = Array("From: a@example.com\r\nSubject: hi\r\n\r\nJust text.\r\n".utf8)
        let failure = try #require(TestMessage.parse(message).failure)
        #expect(failure.reason.contains("no calendar invitation"))
        #expect(failure.mailto == "a@example.com")
        #expect(failure.requestId == "msg-0001")
    }

    @Test("a winmail.dat attachment is explained")
    func tnef() throws {
        let message = """
            From: Outlook User <user@example.com>\r
            MIME-Version: 1.0\r
            Content-Type: multipart/mixed; boundary="b1"\r
            \r
            --b1\r
            Content-Type: text/plain\r
            \r
            Meeting\r
            --b1\r
            Content-Type: application/ms-tnef; name="winmail.dat"\r
            Content-Transfer-Encoding: base64\r
            Content-Disposition: attachment; filename="winmail.dat"\r
            \r
            eJ8+IgAAAQaQCAAEAAAAAAABAAEAAQeQBgAIAAAA5AQAAAAAAADoAAEIgAcAGAAAAElQTS5NaWNy\r
            --b1--\r
            """
        let failure = try #require(TestMessage.parse(Array(message.utf8)).failure)
        #expect(failure.reason.contains("winmail.dat"))
        let raw: [UInt8] = [0x78, 0x9F, 0x3E, 0x22, 0x01, 0x00]
        #expect(TestMessage.parse(raw).failure?.reason.contains("TNEF") == true)
    }

    @Test("inline beats an attached copy when both carry the invite")
    func inlineFirst() throws {
        let inline = TestMessage.calendar(method: "REQUEST", TestMessage.event(extra: "LOCATION:inline copy"))
        let attached = TestMessage.calendar(method: "REQUEST", TestMessage.event(extra: "LOCATION:attached copy"))
        let message = """
            From: Google <calendar@example.com>\r
            MIME-Version: 1.0\r
            Content-Type: multipart/mixed; boundary="outer"\r
            \r
            --outer\r
            Content-Type: application/ics; name="invite.ics"\r
            Content-Disposition: attachment; filename="invite.ics"\r
            \r
            \(attached)\r
            --outer\r
            Content-Type: text/calendar; charset=UTF-8; method=REQUEST\r
            \r
            \(inline)\r
            --outer--\r
            """
        let request = try #require(TestMessage.parse(Array(message.utf8)).requests?.first)
        #expect(request.location == "inline copy")
    }

    @Test("an invite inside a forwarded message/rfc822 is found")
    func forwarded() throws {
        let calendar = TestMessage.calendar(method: "REQUEST", TestMessage.event())
        let message = """
            From: Forwarder <fwd@example.com>\r
            MIME-Version: 1.0\r
            Content-Type: multipart/mixed; boundary="outer"\r
            \r
            --outer\r
            Content-Type: text/plain\r
            \r
            FYI\r
            --outer\r
            Content-Type: message/rfc822\r
            \r
            From: Olga <olga@example.com>\r
            Content-Type: multipart/alternative; boundary="inner"\r
            \r
            --inner\r
            Content-Type: text/plain\r
            \r
            Invitation\r
            --inner\r
            Content-Type: text/calendar; method=REQUEST; charset=UTF-8\r
            Content-Transfer-Encoding: base64\r
            \r
            \(Self.base64(calendar))\r
            --inner--\r
            --outer--\r
            """
        let request = try #require(TestMessage.parse(Array(message.utf8)).requests?.first)
        #expect(request.originalUID == "event-1@example.com")
        #expect(request.mailto == "fwd@example.com")
    }

    @Test("a delivery status notification quoting an invite is ignored")
    func deliveryReport() throws {
        let calendar = TestMessage.calendar(method: "REQUEST", TestMessage.event())
        let message = """
            From: MAILER-DAEMON@example.com\r
            MIME-Version: 1.0\r
            Content-Type: multipart/report; report-type=delivery-status; boundary="r"\r
            \r
            --r\r
            Content-Type: text/plain\r
            \r
            Undeliverable\r
            --r\r
            Content-Type: message/rfc822\r
            \r
            From: olga@example.com\r
            Content-Type: text/calendar; method=REQUEST\r
            \r
            \(calendar)\r
            --r--\r
            """
        #expect(TestMessage.parse(Array(message.utf8)).ignoredReason != nil)
    }

    @Test("an ISO-8859-1 part is converted to UTF-8")
    func latin1() throws {
        var message = TestMessage.singlePart(
            TestMessage.calendar(method: "REQUEST", TestMessage.event(extra: "LOCATION:Caf\u{E9}")), charset: "ISO-8859-1")
        // Replace the UTF-8 "é" with its single ISO-8859-1 byte.
        let utf8 = Array("é".utf8)
        if let index = message.indices.first(where: { message[$0...].starts(with: utf8) }) {
            message.replaceSubrange(index..<(index + utf8.count), with: [0xE9])
        }
        let request = try #require(TestMessage.parse(message).requests?.first)
        #expect(request.location == "Café")
        #expect(request.json(route: .create).contains("\"location\":\"Café\""))
    }

    @Test("a bare iCalendar object parses like a message")
    func bareCalendar() throws {
        let text = "\u{FEFF}" + TestMessage.calendar(method: "REQUEST", TestMessage.event(sequence: 3))
        let request = try #require(TestMessage.parse(Array(text.utf8)).requests?.first)
        #expect(request.sequence == 3)
        #expect(request.mailto == "bounce@example.net")
        #expect(EventClassifier.route(for: request, isKnown: nil) == .update)
    }

    @Test("text values are unescaped and HTML variants escaped")
    func textValues() throws {
        let event = TestMessage.event(extra: "DESCRIPTION:Line one\\nLine <two>\\, \\;done\r\nLOCATION:R&D \"lab\"")
        let request = try #require(TestMessage.parse(TestMessage.singlePart(TestMessage.calendar(method: "REQUEST", event))).requests?.first)
        #expect(request.description == "Line one\nLine <two>, ;done")
        let json = request.json(route: .create)
        #expect(json.contains("\"description_html\":\"Line one\\nLine &lt;two&gt;, ;done\""))
        #expect(json.contains("\"location_html\":\"R&amp;D &quot;lab&quot;\""))
        #expect(json == request.json(route: .create))
    }

    static func base64(_ text: String) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        let bytes = Array(text.utf8)
        var output = ""
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            let value = chunk.enumerated().reduce(0) { $0 | Int($1.element) << (16 - 8 * $1.offset) }
            for position in 0..<4 {
                output.append(position <= chunk.count ? alphabet[(value >> (18 - 6 * position)) & 63] : "=")
            }
            index += 3
            if index % 57 == 0 { output += "\r\n" }
        }
        return output
    }
}
