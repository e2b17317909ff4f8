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

    static func timedOut(seconds: Double, stage: String) -> String {
        "Reading the message took longer than the \(Self.seconds(seconds)) allowed (it stopped while \(stage)); the message is too large or too complex to be read as an invitation."
    }

    static func overMemoryLimit(bytes: Int) -> String {
        "Reading the message needed more than the \(bytes >> 20) MiB of memory a parse may use; the message is too large or too complex to be read as an invitation."
    }

    static func parserStopped(_ detail: String) -> String {
        "The message could not be read: the parser stopped (\(detail)). Please send the invitation again as a plain iCalendar attachment."
    }

    static func tooManyMIMEParts(limit: Int) -> String {
        "The message has more than \(limit) MIME parts; an invitation needs only a few. Please send it again with fewer attachments."
    }

    static func tooDeepMIME(limit: Int) -> String {
        "The message nests multiparts or forwarded messages more than \(limit) levels deep; please send the invitation itself rather than a forward of a forward."
    }

    static func tooManyComponents(limit: Int) -> String {
        "The calendar holds more than \(limit) components (events, time zones, alarms, ...); please send fewer events per message."
    }

    static func tooManyEvents(limit: Int) -> String {
        "The calendar holds more than \(limit) events (VEVENT); please send at most \(limit) events per message."
    }

    static func tooManyAttendees(limit: Int) -> String {
        "An event in the calendar has more than \(limit) attendees; invite a mailing list instead of each person."
    }

    static func tooManyOverrides(uid: String, limit: Int) -> String {
        "The event \(uid) has more than \(limit) changed instances (RECURRENCE-ID); please send the series with fewer exceptions."
    }

    static func timeZoneTooFrequent(tzid: String, frequency: String) -> String {
        "The time zone \(tzid) changes its offset with FREQ=\(frequency); real time zones change at most monthly (FREQ=YEARLY or MONTHLY), so its times cannot be trusted."
    }

    static func timeZoneTooManyTransitions(tzid: String, limit: Int) -> String {
        "The time zone \(tzid) has more than \(limit) offset changes up to the year of the event; real time zones have a few per year, so its times cannot be trusted."
    }

    private static func seconds(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? "\(Int(seconds)) s" : "\(seconds) s"
    }

    private static func libicalErrors(_ errors: [String]) -> String {
        guard !errors.isEmpty else { return "" }
        return " libical reported: " + errors.prefix(5).joined(separator: "; ") + "."
    }
}
