import SenderAuthentication

/// What the consumer concluded about one message's sender, written into its event JSON (or its
/// failure notice) by `jsonFields()`. Absent with `--sender-policy off`.
public struct SenderAuthenticationSummary: Sendable, Equatable {
    public var report: SenderAuthenticationReport
    /// The whole `Authentication-Results:` field, one line.
    public var authenticationResults: String
    /// `report` or `enforce`.
    public var policy: String
    /// Whether the ORGANIZER or its SENT-BY is in the authenticated sender's organizational
    /// domain; nil on a failure notice that has no event.
    public var organizerMatchesSender: Bool?
    /// How many `Authentication-Results` fields in the message claimed our authserv-id (ignored).
    public var ignoredAuthenticationResults: Int

    public init(
        report: SenderAuthenticationReport, authenticationResults: String, policy: String,
        organizerMatchesSender: Bool? = nil, ignoredAuthenticationResults: Int = 0
    ) {
        self.report = report
        self.authenticationResults = authenticationResults
        self.policy = policy
        self.organizerMatchesSender = organizerMatchesSender
        self.ignoredAuthenticationResults = ignoredAuthenticationResults
    }
}
