/// The ORGANIZER of an event (RFC 5545 §3.8.4.3).
public struct EventOrganizer: Sendable, Equatable, Codable {
    /// The calendar address without its `mailto:` scheme.
    public var email: String?
    /// The CN parameter.
    public var name: String?
    /// The SENT-BY parameter, without its `mailto:` scheme.
    public var sentBy: String?

    public init(email: String?, name: String?, sentBy: String?) {
        self.email = email
        self.name = name
        self.sentBy = sentBy
    }
}

/// One ATTENDEE of an event (RFC 5545 §3.8.4.1).
public struct EventAttendee: Sendable, Equatable, Codable {
    /// The calendar address without its `mailto:` scheme.
    public var email: String
    /// The CN parameter.
    public var name: String?
    /// PARTSTAT; `NEEDS-ACTION` when absent (the RFC default).
    public var partstat: String
    /// ROLE; `REQ-PARTICIPANT` when absent (the RFC default).
    public var role: String
    /// RSVP; false when absent.
    public var rsvp: Bool

    public init(email: String, name: String?, partstat: String, role: String, rsvp: Bool) {
        self.email = email
        self.name = name
        self.partstat = partstat
        self.role = role
        self.rsvp = rsvp
    }
}
