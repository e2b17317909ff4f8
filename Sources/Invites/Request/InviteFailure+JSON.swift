import Notifications

extension InviteFailure {
    /// The failure notice JSON (the `default` message published to the failure route), with
    /// `"truncated": true` when fields were shortened to fit the topic's message size. Members
    /// in alphabetical order, as `EventRequest.json` writes them; the sender-authentication
    /// members follow.
    /// `senderAuthentication`: the verdicts, with `--sender-policy report` or `enforce`.
    public func json(truncated: Bool = false, senderAuthentication: SenderAuthenticationSummary? = nil) -> String {
        var writer = JSONObjectWriter()
        writer.field("bucket", self.bucket)
        writer.field("key", self.key)
        writer.field("mailto", self.mailto)
        writer.field("method", self.method)
        writer.field("notify", self.notify)
        if let refused = self.refusedRequest { writer.field("original_uid", refused.originalUID) }
        writer.field("reason", self.reason)
        if let refused = self.refusedRequest { writer.field("refused_route", refused.route) }
        writer.field("return_path", self.returnPath)
        writer.field("route", Route.failure.rawValue)
        if let refused = self.refusedRequest { writer.field("sequence", refused.sequence) }
        if truncated { writer.field("truncated", true) }
        writer.field("uid", self.requestId)
        senderAuthentication?.writeFields(to: &writer)
        return writer.finish()
    }
}
