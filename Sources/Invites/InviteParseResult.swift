/// What parsing one message gave.
public enum InviteParseResult: Sendable, Codable {
    /// One or more event requests to route (several only for a PUBLISH of several events).
    case requests([EventRequest])
    /// The message goes to the failure route, with the reason in plain words.
    case failure(InviteFailure)
    /// Nothing to do (for example a delivery status notification quoting an invite).
    case ignored(reason: String)
}
