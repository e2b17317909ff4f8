import AWS
import Notifications

/// `TopicPublisher` on SNS: one topic ARN per route, `MessageStructure=json`, the message
/// attributes as String attributes, the deduplication id for FIFO topics (the group id, the
/// request id, made to fit the same rules).
public struct SNSTopicPublisher: TopicPublisher {
    public let sns: SNSClient
    public let topics: [Route: String]

    public init(sns: SNSClient, topics: [Route: String]) {
        self.sns = sns
        self.topics = topics
    }

    public func publish(_ message: TopicMessage, to route: Route) async throws -> String {
        guard let topicARN = self.topics[route] else {
            throw BackendError(.invalidArgument, backend: "sns", operation: "Publish", message: "no topic ARN configured for route \(route.rawValue)")
        }
        return try await mappingAWSErrors(backend: "sns", operation: "Publish") {
            try await self.sns.publish(
                topicARN: topicARN, message: message.defaultMessage, subject: message.subject, attributes: message.attributes,
                deduplicationId: message.deduplicationId, messageGroupId: message.attributes["uid"].map(DeduplicationId.fitting))
        }
    }
}
