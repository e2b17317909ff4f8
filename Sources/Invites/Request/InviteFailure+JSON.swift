import Notifications

extension InviteFailure {
    /// The failure notice JSON (the `default` message published to the failure route), with
    /// `"truncated": true` when fields were shortened to fit the topic's message size.
    public func json(truncated: Bool = false) -> String {
        var fields: [String: Any?] = [
            "route": Route.failure.rawValue,
            "method": self.method,
            "uid": self.requestId,
            "reason": self.reason,
            "mailto": self.mailto,
            "return_path": self.returnPath,
            "bucket": self.bucket,
            "key": self.key,
        ]
        if truncated { fields["truncated"] = true }
        return JSONText.serialize(fields)
    }
}
