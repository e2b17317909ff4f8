/// The reasons a requester reads on the failure route, in plain words.
enum FailureReason {
    static let tnef = """
        The invitation arrived as a winmail.dat attachment (Microsoft TNEF, application/ms-tnef), \
        which carries the meeting in a format only Outlook reads. Please send it again with Outlook \
        set to send calendar invitations in iCalendar format (for Outlook.com / Exchange: turn off \
        "Rich Text" for this recipient, or forward the invitation from Outlook on the web).
        """
    static let noCalendarPart = """
        The message holds no calendar invitation: no text/calendar part and no .ics attachment was found.
        """
    static let notAMessage = "The data is neither an email message nor an iCalendar object."

    static func unparseable(_ detail: String) -> String {
        "The calendar attachment could not be read as iCalendar (libical: \(detail))."
    }

    static func noEvent(found others: [String], errors: [String]) -> String {
        var reason = "The iCalendar data holds no event (VEVENT)"
        if !others.isEmpty { reason += "; it holds " + others.joined(separator: ", ") }
        return reason + "." + Self.libicalErrors(errors)
    }

    static func missingUID(errors: [String]) -> String {
        "An event in the calendar has no UID, so it cannot be matched to later updates." + Self.libicalErrors(errors)
    }

    static func missingStart(method: String, errors: [String]) -> String {
        "The \(method.uppercased()) has no valid start time (DTSTART)." + Self.libicalErrors(errors)
    }

    static func unsupported(method: String) -> String {
        "The calendar method \(method.uppercased()) is unsupported; supported are REQUEST, PUBLISH, CANCEL, REPLY and COUNTER."
    }

    static func severalUIDs(method: String, count: Int) -> String {
        "The \(method.uppercased()) is about \(count) different events (UIDs); an iTIP \(method.uppercased()) must be about one (RFC 5546). Please send one invitation per event."
    }

    static func methodMismatch(body: String, contentType: String) -> String {
        "The calendar says METHOD:\(body.uppercased()) but its Content-Type says method=\(contentType.uppercased()) (RFC 6047 §2.4 requires them to agree); the message was not acted on because its instruction is ambiguous."
    }

    private static func libicalErrors(_ errors: [String]) -> String {
        guard !errors.isEmpty else { return "" }
        return " libical reported: " + errors.prefix(5).joined(separator: "; ") + "."
    }
}
