/// An overridden instance of a recurring event: a VEVENT with the master's UID and a RECURRENCE-ID.
public struct EventOverride: Sendable, Equatable, Codable {
    public var recurrenceId: EventTime
    public var sequence: Int
    public var start: EventTime?
    public var end: EventTime?
    public var summary: String?
    public var description: String?
    public var location: String?
    public var status: String?
    public var attendees: [EventAttendee]

    public init(
        recurrenceId: EventTime, sequence: Int, start: EventTime?, end: EventTime?,
        summary: String?, description: String?, location: String?, status: String?,
        attendees: [EventAttendee]
    ) {
        self.recurrenceId = recurrenceId
        self.sequence = sequence
        self.start = start
        self.end = end
        self.summary = summary
        self.description = description
        self.location = location
        self.status = status
        self.attendees = attendees
    }
}
