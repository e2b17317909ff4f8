/// The topic an event request is published to (DESIGN.md, "Routes").
public enum EventRoute: String, Sendable, CaseIterable {
    /// A REQUEST or PUBLISH for an event not seen before.
    case create
    /// A REQUEST for a known UID, or SEQUENCE > 0 when no index is configured.
    case update
    /// A CANCEL.
    case cancel
    /// A REPLY (an attendee's PARTSTAT) or a COUNTER (an attendee's proposed time).
    case reply
    /// Anything that cannot be acted on: the requester is told why.
    case failure
}
