/// The topic an event request is published to: one topic per route, SNS or
/// `<data-dir>/topics/<route>.jsonl`. The classifier chooses it, the publishers name their
/// topics by it (see docs/architecture.md, "Adding a route").
public enum Route: String, Sendable, CaseIterable, Codable {
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
