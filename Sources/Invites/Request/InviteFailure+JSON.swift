import Notifications

extension InviteFailure {
    /// The failure notice JSON (the `default` message published to the failure route), with
    /// `"truncated": true` when fields were shortened to fit the topic's message size.
    /// `senderAuthentication`: the verdicts, with `--sender-policy report` or `enforce`.
    public func json(truncated: Bool = false, senderAuthentication: SenderAuthenticationSummary? = nil) -> String {
        var fields: [String: Any?] = [
            "route": Route.failure.rawValue,
            "method": self.method,
            "uid": self.requestId,
            "reason": self.reason,
            "mailto": self.mailto,
            "return_path": self.returnPath,
            "bucket": self.bucket,
            "key": self.key,
            "notify": self.notify,
        ]
        if let refused = self.refusedRequest {
            fields["original_uid"] = refused.originalUID
            fields["sequence"] = refused.sequence
            fields["refused_route"] = refused.route
        }
        if truncated { fields["truncated"] = true }
        if let senderAuthentication { fields.merge(senderAuthentication.jsonFields()) { _, added in added } }
        return JSONText.serialize(fields)
    }
}
