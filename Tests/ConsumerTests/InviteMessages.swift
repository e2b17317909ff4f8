/// Small iMIP messages (RFC 6047) for the pipeline tests, built the way a calendar client
/// sends them: a multipart/alternative with a text part and a text/calendar part.
enum InviteMessages {
    static func request(uid: String, sequence: Int, summary: String = "Quarterly planning") -> [UInt8] {
        Self.message(method: "REQUEST", uid: uid, sequence: sequence, summary: summary)
    }

    /// A request whose DESCRIPTION is `descriptionSize` bytes, folded at 75 octets: slow to parse.
    static func large(uid: String, descriptionSize: Int) -> [UInt8] {
        let folded = stride(from: 0, to: descriptionSize, by: 74).map { _ in String(repeating: "x", count: 74) }
            .joined(separator: "\n ")
        return Self.message(method: "REQUEST", uid: uid, sequence: 0, summary: "Quarterly planning", description: folded)
    }

    static func cancel(uid: String, sequence: Int) -> [UInt8] {
        Self.message(method: "CANCEL", uid: uid, sequence: sequence, summary: "Quarterly planning")
    }

    /// A plain message with no calendar part: the failure route.
    static func withoutCalendar() -> [UInt8] {
        Self.crlf("""
            From: Olivia Organizer <olivia@example.com>
            To: create@invites.example.com
            Subject: Lunch?
            Date: Wed, 25 Nov 2026 15:00:00 +0000
            Message-ID: <no-calendar@example.com>
            MIME-Version: 1.0
            Content-Type: text/plain; charset=utf-8

            Shall we have lunch on Friday?

            """)
    }

    private static func message(
        method: String, uid: String, sequence: Int, summary: String, description: String = "Agenda to follow."
    ) -> [UInt8] {
        Self.crlf("""
            From: Olivia Organizer <olivia@example.com>
            To: create@invites.example.com
            Subject: Invitation: \(summary)
            Date: Wed, 25 Nov 2026 15:00:00 +0000
            Message-ID: <\(uid)-\(sequence)@example.com>
            MIME-Version: 1.0
            Content-Type: multipart/alternative; boundary="b1"

            --b1
            Content-Type: text/plain; charset=utf-8

            You are invited to \(summary).
            --b1
            Content-Type: text/calendar; charset=utf-8; method=\(method)
            Content-Transfer-Encoding: 7bit

            BEGIN:VCALENDAR
            VERSION:2.0
            PRODID:-//cis tests//EN
            METHOD:\(method)
            BEGIN:VEVENT
            UID:\(uid)
            SEQUENCE:\(sequence)
            DTSTAMP:20261125T150000Z
            DTSTART:20261202T140000Z
            DTEND:20261202T150000Z
            SUMMARY:\(summary)
            DESCRIPTION:\(description)
            ORGANIZER;CN=Olivia Organizer:mailto:olivia@example.com
            ATTENDEE;CN=Alex Attendee;PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT;RSVP=TRUE:mailto:alex@example.com
            END:VEVENT
            END:VCALENDAR
            --b1--

            """)
    }

    private static func crlf(_ text: String) -> [UInt8] {
        Array(text.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\r\n").utf8)
    }
}
