import Notifications

/// The publishes the consumer has made, so that a redelivered queue message publishes
/// nothing a second time.
///
/// The consumer looks a publish up before making it and records it right after it
/// succeeded, before the queue message is deleted. Implementations: the embedded event
/// index (`<data-dir>/events.sqlite`, table `published`), local to one consumer host, and
/// `DynamoDBPublishLedger`, shared by every consumer of an SQS queue.
public protocol PublishLedger: Sendable {
    /// The topic message id of an earlier publish of `key`, nil when there was none.
    func publishedMessageId(for key: PublishKey) async throws -> String?

    /// Records that `key` was published as `messageId`; recording it again keeps the first.
    func recordPublished(_ key: PublishKey, messageId: String) async throws
}

/// What makes a publish the same publish: the request (the object), the iCalendar UID and its
/// SEQUENCE, and the route. A failure notice has no UID (empty) and no SEQUENCE (-1).
public struct PublishKey: Sendable, Hashable, CustomStringConvertible {
    public var requestId: String
    public var uid: String
    public var sequence: Int
    public var route: Route

    public init(requestId: String, uid: String, sequence: Int, route: Route) {
        self.requestId = requestId
        self.uid = uid
        self.sequence = sequence
        self.route = route
    }

    public var description: String { "\(self.requestId)/\(self.uid)/\(self.sequence) → \(self.route.rawValue)" }
}
