/// A message that goes to the failure route: the requester is told the reason.
public struct InviteFailure: Sendable, Error, Equatable, Codable {
    /// The reason in plain words, for a person to read.
    public var reason: String
    /// The request id: the last segment of the object key.
    public var requestId: String
    /// The requester's address: Reply-To, else From, else the envelope sender.
    public var mailto: String?
    /// The Return-Path header, else the envelope sender.
    public var returnPath: String?
    /// The iTIP method in lower case, when one was found.
    public var method: String?
    public var bucket: String
    public var key: String

    public init(
        reason: String, requestId: String, mailto: String? = nil, returnPath: String? = nil,
        method: String? = nil, bucket: String = "", key: String = ""
    ) {
        self.reason = reason
        self.requestId = requestId
        self.mailto = mailto
        self.returnPath = returnPath
        self.method = method
        self.bucket = bucket
        self.key = key
    }

    /// A stable id for the publish of this failure notice.
    public var deduplicationId: String {
        self.requestId + "/failure"
    }
}
