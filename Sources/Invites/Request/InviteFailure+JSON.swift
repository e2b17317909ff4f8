import Notifications

extension InviteFailure {
    /// The failure notice JSON (the `default` message published to the failure route).
    public func json() -> String {
        JSONText.serialize([
            "route": Route.failure.rawValue,
            "method": self.method,
            "uid": self.requestId,
            "reason": self.reason,
            "mailto": self.mailto,
            "return_path": self.returnPath,
            "bucket": self.bucket,
            "key": self.key,
        ])
    }
}
