/// Tells a new event (route `create`) from one already seen (route `update`), and remembers
/// which sender domain created each event (the sender policy's check on updates and cancels).
///
/// Implementations: local SQLite in the data dir, DynamoDB GetItem on the existing
/// pipeline's table (`pk` = `sk` = `original_event#<UID>`), and none (SEQUENCE decides).
public protocol EventIndex: Sendable {
    /// Whether an event with this iCalendar UID is known. `nil` when the index has no
    /// opinion (the `none` index): the caller then decides from SEQUENCE.
    func isKnown(uid: String) async throws -> Bool?

    /// Records that this UID was routed to `create`, and the authenticated domain of the sender
    /// who created it (nil when the sender was not authenticated or not checked). The first
    /// record of a UID stays. Indexes the consumer does not own record only the domain, if at all.
    func recordCreated(uid: String, creatingDomain: String?) async throws

    /// The domain recorded when this UID was created; nil when the UID is unknown or its
    /// creator was not recorded (created before sender authentication, or by an unauthenticated sender).
    func creatingDomain(uid: String) async throws -> String?
}

extension EventIndex {
    /// Records a UID routed to `create` without a creating domain.
    public func recordCreated(uid: String) async throws {
        try await self.recordCreated(uid: uid, creatingDomain: nil)
    }
}
