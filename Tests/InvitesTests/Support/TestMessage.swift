import Invites

/// Builds small RFC 5322 messages for tests.
enum TestMessage {
    /// A VCALENDAR with the given METHOD (none when nil) around `body`.
    static func calendar(method: String?, _ body: String) -> String {
        var lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//cis tests//EN"]
        if let method { lines.append("METHOD:\(method)") }
        return (lines + [body.trimmingTrailingNewlines, "END:VCALENDAR"]).joined(separator: "\r\n") + "\r\n"
    }

    /// A VEVENT with the usual properties; `extra` lines go inside it.
    static func event(
        uid: String = "event-1@example.com", sequence: Int = 0, start: String = "DTSTART:20240102T150000Z",
        end: String? = "DTEND:20240102T160000Z", extra: String = ""
    ) -> String {
        var lines = [
            "BEGIN:VEVENT", "UID:\(uid)", "SEQUENCE:\(sequence)", "DTSTAMP:20240101T120000Z", start,
        ]
        if let end { lines.append(end) }
        lines += [
            "SUMMARY:Planning", "ORGANIZER;CN=Olga Organizer:mailto:olga@example.com",
            "ATTENDEE;CN=Ann;PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT;RSVP=TRUE:mailto:ann@example.org",
        ]
        if !extra.isEmpty { lines.append(extra.trimmingTrailingNewlines) }
        lines.append("END:VEVENT")
        return lines.joined(separator: "\r\n")
    }

    /// A single-part message whose body is `calendar` as text/calendar.
    static func singlePart(
        _ calendar: String, contentTypeMethod: String? = "REQUEST", charset: String = "UTF-8",
        headers: String = "From: Olga Organizer <olga@example.com>"
    ) -> [UInt8] {
        let method = contentTypeMethod.map { "; method=\($0)" } ?? ""
        let text = headers + "\r\nSubject: Invitation\r\nMIME-Version: 1.0\r\n"
            + "Content-Type: text/calendar; charset=\(charset)\(method)\r\n\r\n" + calendar
        return Array(text.utf8)
    }

    static func input(_ message: [UInt8], envelopeSender: String? = "bounce@example.net") -> InviteInput {
        InviteInput(message: message, bucket: "test-bucket", key: "incoming/msg-0001", envelopeSender: envelopeSender)
    }

    static func parse(_ message: [UInt8], envelopeSender: String? = "bounce@example.net") -> InviteParseResult {
        InviteParser.parse(Self.input(message, envelopeSender: envelopeSender))
    }
}

extension InviteParseResult {
    /// The requests, or nil (and the outcome in `description`) for any other outcome.
    var requests: [EventRequest]? {
        if case .requests(let requests) = self { return requests }
        return nil
    }

    var failure: InviteFailure? {
        if case .failure(let failure) = self { return failure }
        return nil
    }

    var ignoredReason: String? {
        if case .ignored(let reason) = self { return reason }
        return nil
    }
}

extension String {
    var trimmingTrailingNewlines: String {
        var scalars = self.unicodeScalars
        while let last = scalars.last, last == "\n" || last == "\r" { scalars.removeLast() }
        return String(scalars)
    }
}
