import Notifications

extension InviteFailure {
    /// The failure notice JSON (the `default` message published to the failure route), with
    /// `"truncated": true` when fields were shortened to fit the topic's message size. Members
    /// in alphabetical order, as `EventRequest.json` writes them.
    public func json(truncated: Bool = false) -> String {
        var writer = JSONObjectWriter()
        writer.field("bucket", self.bucket)
        writer.field("key", self.key)
        writer.field("mailto", self.mailto)
        writer.field("method", self.method)
        writer.field("reason", self.reason)
        writer.field("return_path", self.returnPath)
        writer.field("route", Route.failure.rawValue)
        if truncated { writer.field("truncated", true) }
        writer.field("uid", self.requestId)
        return writer.finish()
    }
}
