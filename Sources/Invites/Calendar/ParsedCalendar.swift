/// The content of one iCalendar object, copied out of libical.
struct ParsedCalendar: Sendable, Equatable {
    /// METHOD of the VCALENDAR, lower-cased.
    var method: String?
    var prodid: String?
    var events: [ParsedEvent]
    /// Kinds of the other top-level components (`VTODO`, `VJOURNAL`, `VFREEBUSY`), upper-cased.
    var otherComponents: [String]
    /// libical's X-LIC-ERROR texts: what it could not parse and dropped.
    var errors: [String]
}

/// One VEVENT, copied out of libical with its times resolved.
struct ParsedEvent: Sendable, Equatable {
    var uid: String?
    var sequence: Int = 0
    var dtstamp: EventTime?
    var created: EventTime?
    var lastModified: EventTime?
    var start: EventTime?
    var end: EventTime?
    var recurrenceId: EventTime?
    var summary: String?
    var description: String?
    var location: String?
    var status: String?
    var rrule: String?
    var organizer: EventOrganizer?
    var attendees: [EventAttendee] = []
}

/// libical could not make a calendar of the text.
struct CalendarParseError: Error, Sendable, Equatable {
    var message: String
}

/// Why a calendar part gave no calendar: libical could not read it, or it is over a limit.
enum CalendarReadError: Error, Sendable, Equatable {
    case unparseable(CalendarParseError)
    case overLimit(LimitExceeded)
}
