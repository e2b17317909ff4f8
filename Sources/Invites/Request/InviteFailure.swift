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
    /// Whether the requester may be sent the notice: false when the sender policy could not
    /// authenticate them (a notice to a forged address is backscatter).
    public var notify: Bool = true
    /// Set when the sender policy refused one event request: the request's UID, SEQUENCE and the
    /// route it would have taken.
    public var refusedRequest: RefusedRequest?

    public struct RefusedRequest: Sendable, Equatable, Codable {
        public var originalUID: String
        public var sequence: Int
        public var route: String

        public init(originalUID: String, sequence: Int, route: String) {
            self.originalUID = originalUID
            self.sequence = sequence
            self.route = route
        }
    }

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
        guard let refused = self.refusedRequest else { return self.requestId + "/failure" }
        return self.requestId + "/" + refused.originalUID + "/" + String(refused.sequence) + "/refused"
    }
}
