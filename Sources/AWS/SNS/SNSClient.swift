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
        let structured = try JSONSerialization.data(withJSONObject: ["default": message], options: [.sortedKeys])
        var parameters: [(String, String)] = [
            ("Action", "Publish"), ("Version", "2010-03-31"), ("TopicArn", topicARN),
            ("Message", String(decoding: structured, as: UTF8.self)), ("MessageStructure", "json"),
        ]
        if let subject { parameters.append(("Subject", subject)) }
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
        let form = parameters.map {
            "\(SigV4Encoding.percentEncode($0.0, keepingSlash: false))=\(SigV4Encoding.percentEncode($0.1, keepingSlash: false))"
        }.joined(separator: "&")
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded; charset=utf-8")
        let response = try await self.client.send(
            AWSServiceClient.Call(operation: "Publish", method: "POST", headers: headers, body: SegmentedBody(form)))
        guard let messageId = XMLText.firstValue(of: "MessageId", in: response.bodyText) else {
            throw AWSError(
                service: "sns", operation: "Publish", statusCode: response.status, code: "UnreadableResponse",
                message: "no MessageId in the response")
        }
        return messageId
    }

    public static func isFIFO(_ topicARN: String) -> Bool {
        topicARN.hasSuffix(".fifo")
    }
}
