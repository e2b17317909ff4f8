/// The bounds one message is parsed under. A message over any of them goes to the failure
/// route with the limit named in plain words; none of them is ever a hang.
public struct ParseLimits: Sendable, Equatable, Codable {
    /// Wall-clock time for parsing one message, from the first byte to the last request.
    public var timeout: Duration
    /// MIME entities (parts, multiparts, attached messages) in the message.
    public var maximumMIMEParts: Int
    /// Multiparts and attached messages inside one another.
    public var maximumMIMEDepth: Int
    /// iCalendar components (`BEGIN:` lines: VEVENT, VTIMEZONE, STANDARD, VALARM, ...) per calendar part.
    public var maximumCalendarComponents: Int
    /// VEVENTs per calendar part, overridden instances included.
    public var maximumEvents: Int
    /// ATTENDEE properties per VEVENT.
    public var maximumAttendees: Int
    /// Overridden instances (VEVENTs with RECURRENCE-ID) per event UID.
    public var maximumOverrides: Int
    /// Time zone changes expanded from the VTIMEZONE rules of one calendar part.
    public var maximumTimeZoneTransitions: Int

    public static let defaultTimeout = Duration.seconds(2)
    public static let timeoutRange = 0.1...60.0
    public static let defaultMaximumMIMEParts = 100
    public static let defaultMaximumMIMEDepth = 10
    public static let defaultMaximumCalendarComponents = 2_000
    public static let defaultMaximumEvents = 200
    public static let defaultMaximumAttendees = 1_000
    public static let defaultMaximumOverrides = 200
    public static let defaultMaximumTimeZoneTransitions = 10_000
    /// Bounds accepted for every count limit.
    public static let countRange = 1...1_000_000

    public static let `default` = ParseLimits()

    public init(
        timeout: Duration = Self.defaultTimeout,
        maximumMIMEParts: Int = Self.defaultMaximumMIMEParts,
        maximumMIMEDepth: Int = Self.defaultMaximumMIMEDepth,
        maximumCalendarComponents: Int = Self.defaultMaximumCalendarComponents,
        maximumEvents: Int = Self.defaultMaximumEvents,
        maximumAttendees: Int = Self.defaultMaximumAttendees,
        maximumOverrides: Int = Self.defaultMaximumOverrides,
        maximumTimeZoneTransitions: Int = Self.defaultMaximumTimeZoneTransitions
    ) {
        self.timeout = timeout
        self.maximumMIMEParts = maximumMIMEParts
        self.maximumMIMEDepth = maximumMIMEDepth
        self.maximumCalendarComponents = maximumCalendarComponents
        self.maximumEvents = maximumEvents
        self.maximumAttendees = maximumAttendees
        self.maximumOverrides = maximumOverrides
        self.maximumTimeZoneTransitions = maximumTimeZoneTransitions
    }

    /// The timeout in seconds, as options and reasons print it.
    public var timeoutSeconds: Double {
        let components = self.timeout.components
        return Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
