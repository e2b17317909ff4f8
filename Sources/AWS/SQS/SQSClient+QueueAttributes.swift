import Foundation

extension SQSClient {
    /// The approximate counts SQS keeps for a queue (GetQueueAttributes). SQS tells no age of
    /// its oldest message here (that is CloudWatch's `ApproximateAgeOfOldestMessage`).
    public struct QueueDepth: Sendable, Equatable {
        /// `ApproximateNumberOfMessages`: visible, waiting for a receive.
        public var visible: Int
        /// `ApproximateNumberOfMessagesNotVisible`: received and not yet deleted.
        public var inFlight: Int
        /// `ApproximateNumberOfMessagesDelayed`.
        public var delayed: Int

        public var total: Int { self.visible + self.inFlight + self.delayed }
    }

    public func queueDepth(queueURL: String, timeout: Duration? = nil) async throws -> QueueDepth {
        struct Request: Encodable {
            var QueueUrl: String
            var AttributeNames: [String]
        }
        struct Response: Decodable {
            var Attributes: [String: String]?
        }
        let names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"]
        let response: Response = try await AWSJSONProtocol.perform(
            client: self.client, target: "AmazonSQS.GetQueueAttributes", operation: "GetQueueAttributes",
            request: Request(QueueUrl: queueURL, AttributeNames: names), timeout: timeout)
        let attributes = response.Attributes ?? [:]
        func count(_ name: String) throws -> Int {
            guard let text = attributes[name], let value = Int(text), value >= 0 else {
                throw AWSError(
                    service: "sqs", operation: "GetQueueAttributes", statusCode: 200, code: "UnreadableResponse",
                    message: "no count \(name) in the response")
            }
            return value
        }
        return QueueDepth(
            visible: try count(names[0]), inFlight: try count(names[1]), delayed: attributes[names[2]].flatMap { Int($0) } ?? 0)
    }

    /// Up to `maxMessages` (1...10) messages received with a visibility timeout of 0: they stay
    /// visible to every other receiver (a consumer, `cis dlq redrive`), but SQS counts the look
    /// as a receive in `ApproximateReceiveCount`.
    public func peekMessages(queueURL: String, maxMessages: Int, timeout: Duration) async throws -> [Message] {
        try await self.receiveMessage(queueURL: queueURL, maxMessages: maxMessages, visibilityTimeout: 0, waitTime: 0, timeout: timeout)
    }
}
