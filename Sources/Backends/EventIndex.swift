/// Tells a new event (route `create`) from one already seen (route `update`).
///
/// Implementations: local SQLite in the data dir, DynamoDB GetItem on the existing
/// pipeline's table (`pk` = `sk` = `original_event#<UID>`), and none (SEQUENCE decides).
public protocol EventIndex: Sendable {
    /// Whether an event with this iCalendar UID is known. `nil` when the index has no
    /// opinion (the `none` index): the caller then decides from SEQUENCE.
    func isKnown(uid: String) async throws -> Bool?

    /// Records that this UID was routed to `create`. A no-op for indexes the consumer does not own.
    func recordCreated(uid: String) async throws
}
