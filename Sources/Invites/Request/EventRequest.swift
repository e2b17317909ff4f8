/// The standardized event request: one iCalendar UID of one message, ready to route.
public struct EventRequest: Sendable, Equatable, Codable {
    /// The iTIP method in lower case: `request`, `publish`, `cancel`, `reply` or `counter`.
    public var method: String
    /// The request id (the `uid` field): the last segment of the object key.
    public var requestId: String
    /// The iCalendar UID (the `original_uid` field).
    public var originalUID: String
    public var sequence: Int
    /// The requester's address: Reply-To, else From, else the envelope sender.
    public var mailto: String?
    /// The Return-Path header, else the envelope sender.
    public var returnPath: String?
    public var organizer: EventOrganizer?
    public var summary: String?
    public var description: String?
    public var location: String?
    /// DTSTART; for a COUNTER, the proposed start.
    public var start: EventTime?
    /// DTEND, or DTSTART + DURATION; for a COUNTER, the proposed end.
    public var end: EventTime?
    public var dtstamp: EventTime?
    public var created: EventTime?
    public var lastModified: EventTime?
    public var status: String?
    /// The PRODID of the VCALENDAR.
    public var prodid: String?
    public var attendees: [EventAttendee]
    /// The RRULE as written (RFC 5545 §3.3.10 text).
    public var rrule: String?
    /// Set when the request is about one instance only (no master VEVENT in the file).
    public var recurrenceId: EventTime?
    /// Overridden instances that came with the master.
    public var overrides: [EventOverride]
    public var bucket: String
    public var key: String

    public init(
        method: String, requestId: String, originalUID: String, sequence: Int,
        mailto: String? = nil, returnPath: String? = nil, organizer: EventOrganizer? = nil,
        summary: String? = nil, description: String? = nil, location: String? = nil,
        start: EventTime? = nil, end: EventTime? = nil, dtstamp: EventTime? = nil,
        created: EventTime? = nil, lastModified: EventTime? = nil, status: String? = nil,
        prodid: String? = nil, attendees: [EventAttendee] = [], rrule: String? = nil,
        recurrenceId: EventTime? = nil, overrides: [EventOverride] = [],
        bucket: String = "", key: String = ""
    ) {
        self.method = method
        self.requestId = requestId
        self.originalUID = originalUID
        self.sequence = sequence
        self.mailto = mailto
        self.returnPath = returnPath
        self.organizer = organizer
        self.summary = summary
        self.description = description
        self.location = location
        self.start = start
        self.end = end
        self.dtstamp = dtstamp
        self.created = created
        self.lastModified = lastModified
        self.status = status
        self.prodid = prodid
        self.attendees = attendees
        self.rrule = rrule
        self.recurrenceId = recurrenceId
        self.overrides = overrides
        self.bucket = bucket
        self.key = key
    }

    /// A stable id for the publish: the same message processed twice gives the same id,
    /// so subscribers can drop the repeat.
    public var deduplicationId: String {
        self.requestId + "/" + self.originalUID + "/" + String(self.sequence)
    }
}
