import FileIO
import Foundation

/// SNS Publish over the query protocol (form-encoded POST, XML response).
public struct SNSClient: Sendable {
    public let client: AWSServiceClient

    public init(client: AWSServiceClient) {
        self.client = client
    }

    /// Publishes `{"default": message}` with `MessageStructure=json` and String message attributes.
    /// `deduplicationId` and `messageGroupId` are sent only to FIFO topics (ARN ending in `.fifo`).
    public func publish(
        topicARN: String, message: String, subject: String? = nil, attributes: [String: String] = [:],
        deduplicationId: String? = nil, messageGroupId: String? = nil
    ) async throws -> String {
        let parameters = Self.publishParameters(
            topicARN: topicARN, structuredMessage: try Self.structuredMessage(message), subject: subject, attributes: attributes,
            deduplicationId: deduplicationId, messageGroupId: messageGroupId)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: AWSQueryForm.contentType)
        let response = try await self.client.send(
            AWSServiceClient.Call(
                operation: "Publish", method: "POST", headers: headers, body: SegmentedBody(AWSQueryForm.encode(parameters))))
        guard let messageId = XMLText.firstValue(of: "MessageId", in: response.bodyText) else {
            throw AWSError(
                service: "sns", operation: "Publish", statusCode: response.status, code: "UnreadableResponse",
                message: "no MessageId in the response")
        }
        return messageId
    }

    /// `{"default": message}`, the body of a `MessageStructure=json` publish.
    public static func structuredMessage(_ message: String) throws -> String {
        let structured = try JSONSerialization.data(withJSONObject: ["default": message], options: [.sortedKeys])
        return String(decoding: structured, as: UTF8.self)
    }

    /// The form parameters of one Publish, in the order of Publish's input shape (botocore's order
    /// when called with the members in that order), attributes sorted by name.
    public static func publishParameters(
        topicARN: String, structuredMessage: String, subject: String?, attributes: [String: String],
        deduplicationId: String?, messageGroupId: String?
    ) -> [(name: String, value: String)] {
        var parameters: [(name: String, value: String)] = [
            ("Action", "Publish"), ("Version", "2010-03-31"), ("TopicArn", topicARN), ("Message", structuredMessage),
        ]
        if let subject { parameters.append(("Subject", subject)) }
        parameters.append(("MessageStructure", "json"))
        for (index, (name, value)) in attributes.sorted(by: { $0.key < $1.key }).enumerated() {
            let prefix = "MessageAttributes.entry.\(index + 1)"
            parameters.append(("\(prefix).Name", name))
            parameters.append(("\(prefix).Value.DataType", "String"))
            parameters.append(("\(prefix).Value.StringValue", value))
        }
        if Self.isFIFO(topicARN) {
            if let deduplicationId { parameters.append(("MessageDeduplicationId", deduplicationId)) }
            parameters.append(("MessageGroupId", messageGroupId ?? deduplicationId ?? "default"))
        }
        return parameters
    }

    public static func isFIFO(_ topicARN: String) -> Bool {
        topicARN.hasSuffix(".fifo")
    }
}
