import Digest
import FileIO
import Foundation

/// SQS over the JSON protocol (`X-Amz-Target: AmazonSQS.<Operation>`), as current SDKs speak it.
public struct SQSClient: Sendable {
    public let client: AWSServiceClient

    public init(client: AWSServiceClient) {
        self.client = client
    }

    public struct Message: Sendable, Equatable {
        public var messageId: String
        public var receiptHandle: String
        public var body: String
        /// System attributes asked for (`ApproximateReceiveCount`).
        public var attributes: [String: String]
    }

    /// Returns the message id; checks SQS's MD5 of the body against ours.
    public func sendMessage(queueURL: String, body: String, messageGroupId: String? = nil, deduplicationId: String? = nil) async throws
        -> String
    {
        struct Request: Encodable {
            var QueueUrl: String
            var MessageBody: String
            var MessageGroupId: String?
            var MessageDeduplicationId: String?
        }
        struct Response: Decodable {
            var MessageId: String
            var MD5OfMessageBody: String?
        }
        let response: Response = try await self.perform(
            "SendMessage",
            Request(QueueUrl: queueURL, MessageBody: body, MessageGroupId: messageGroupId, MessageDeduplicationId: deduplicationId))
        let expected = Digest.md5(Array(body.utf8)).hexString
        if let md5 = response.MD5OfMessageBody, md5.lowercased() != expected {
            throw AWSError(
                service: "sqs", operation: "SendMessage", statusCode: 200, code: "MD5Mismatch",
                message: "SQS reported body MD5 \(md5), expected \(expected)")
        }
        return response.MessageId
    }

    /// Long-polls up to `waitTime` seconds for up to `maxMessages` (1...10) messages; the call
    /// ends after `timeout` (default: the wait and 15 s more).
    public func receiveMessage(
        queueURL: String, maxMessages: Int, visibilityTimeout: Int?, waitTime: Int, timeout: Duration? = nil
    ) async throws -> [Message] {
        struct Request: Encodable {
            var QueueUrl: String
            var MaxNumberOfMessages: Int
            var VisibilityTimeout: Int?
            var WaitTimeSeconds: Int
            var AttributeNames: [String]
            var MessageSystemAttributeNames: [String]
        }
        struct Response: Decodable {
            struct Entry: Decodable {
                var MessageId: String
                var ReceiptHandle: String
                var Body: String
                var Attributes: [String: String]?
            }
            var Messages: [Entry]?
        }
        guard (1...10).contains(maxMessages), (0...20).contains(waitTime) else {
            throw AWSRequestError("ReceiveMessage: maxMessages must be 1...10 and waitTime 0...20 seconds")
        }
        let response: Response = try await self.perform(
            "ReceiveMessage",
            Request(
                QueueUrl: queueURL, MaxNumberOfMessages: maxMessages, VisibilityTimeout: visibilityTimeout, WaitTimeSeconds: waitTime,
                AttributeNames: ["ApproximateReceiveCount"], MessageSystemAttributeNames: ["ApproximateReceiveCount"]),
            timeout: timeout ?? .seconds(waitTime + 15))
        return (response.Messages ?? []).map {
            Message(messageId: $0.MessageId, receiptHandle: $0.ReceiptHandle, body: $0.Body, attributes: $0.Attributes ?? [:])
        }
    }

    public func deleteMessage(queueURL: String, receiptHandle: String) async throws {
        struct Request: Encodable {
            var QueueUrl: String
            var ReceiptHandle: String
        }
        let _: EmptyResponse = try await self.perform("DeleteMessage", Request(QueueUrl: queueURL, ReceiptHandle: receiptHandle))
    }

    public func changeMessageVisibility(queueURL: String, receiptHandle: String, visibilityTimeout: Int) async throws {
        struct Request: Encodable {
            var QueueUrl: String
            var ReceiptHandle: String
            var VisibilityTimeout: Int
        }
        let _: EmptyResponse = try await self.perform(
            "ChangeMessageVisibility", Request(QueueUrl: queueURL, ReceiptHandle: receiptHandle, VisibilityTimeout: visibilityTimeout))
    }

    private func perform<Request: Encodable, Response: Decodable>(
        _ operation: String, _ request: Request, timeout: Duration? = nil
    ) async throws -> Response {
        try await AWSJSONProtocol.perform(
            client: self.client, target: "AmazonSQS.\(operation)", operation: operation, request: request, timeout: timeout)
    }
}

struct EmptyResponse: Decodable {}

/// AWS JSON 1.0: POST `/`, `X-Amz-Target`, a JSON body both ways.
enum AWSJSONProtocol {
    static func perform<Request: Encodable, Response: Decodable>(
        client: AWSServiceClient, target: String, operation: String, request: Request, timeout: Duration?
    ) async throws -> Response {
        let body = try JSONEncoder().encode(request)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/x-amz-json-1.0")
        headers.add(name: "X-Amz-Target", value: target)
        let response = try await client.send(
            AWSServiceClient.Call(
                operation: operation, method: "POST", headers: headers, body: SegmentedBody(bytes: Array(body)), timeout: timeout))
        let data = response.body.isEmpty ? Data("{}".utf8) : Data(response.body)
        do {
            return try JSONDecoder().decode(Response.self, from: data)
        } catch {
            throw AWSError(
                service: client.service, operation: operation, statusCode: response.status, code: "UnreadableResponse",
                message: "cannot decode the response: \(error)")
        }
    }
}
