import Notifications

/// One published message: SNS `Publish` with `MessageStructure=json`.
public struct TopicMessage: Sendable, Equatable {
    /// The event JSON; published as `{"default": <defaultMessage>}`.
    public var defaultMessage: String
    /// SNS message attributes (String type): at least `method` and `uid`.
    public var attributes: [String: String]
    /// Identical for every publish of the same request (request id + UID + SEQUENCE), so that
    /// subscribers can drop a repeat after a redelivery. Made to fit SNS FIFO's rules by
    /// `DeduplicationId.fitting` (a hash when longer than 128 characters).
    public var deduplicationId: String
    public var subject: String?

    public init(defaultMessage: String, attributes: [String: String], deduplicationId: String, subject: String? = nil) {
        self.defaultMessage = defaultMessage
        self.attributes = attributes
        self.deduplicationId = DeduplicationId.fitting(deduplicationId)
        self.subject = subject
    }
}

public protocol TopicPublisher: Sendable {
    /// Publishes to the route's topic; returns the message id once the publish is durable.
    func publish(_ message: TopicMessage, to route: Route) async throws -> String
}
