import AWS
import FileIO
import Foundation
import Logging
import Testing
import TestSupport

/// The moto_server that `make test` starts (`CIS_TEST_MOTO_ENDPOINT`), verifying every SigV4
/// signature against the keys of the IAM user it made (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`),
/// and the set-up calls the tests need (bucket, queue, topic, subscription, table) that the
/// product itself never makes.
struct MotoServer {
    let endpoint: String
    let credentials: AWSCredentials
    let services: AWSServices

    /// Fails the test (never skips it) when moto is not running or its IAM user's keys are not exported.
    init() throws {
        let moto = try MotoEnvironment.require()
        self.endpoint = moto.endpoint
        self.credentials = AWSCredentials(accessKeyId: moto.accessKeyId, secretAccessKey: moto.secretAccessKey)
        self.services = try Self.services(endpoint: moto.endpoint, credentials: self.credentials)
    }

    static func services(
        endpoint: String, credentials: AWSCredentials,
        retryPolicy: RetryPolicy = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(20))
    ) throws -> AWSServices {
        AWSServices(
            region: "us-east-1",
            credentials: AWSCredentialChain(sources: [StaticCredentialSource(credentials)]),
            transport: CurlTransport(configuration: .init(workerCount: 4)),
            environment: AWSEnvironment(["AWS_ENDPOINT_URL": endpoint]), retryPolicy: retryPolicy, logger: Logger(label: "test"))
    }

    static func uniqueName(_ prefix: String) -> String {
        "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    func createBucket(_ name: String) async throws {
        _ = try await self.services.serviceClient(.s3).send(.init(operation: "CreateBucket", method: "PUT", path: "/\(name)"))
    }

    /// Returns the queue URL.
    func createQueue(_ name: String, attributes: [String: String] = [:]) async throws -> String {
        let body = try JSONSerialization.data(withJSONObject: ["QueueName": name, "Attributes": attributes])
        let response = try await self.json(.sqs, target: "AmazonSQS.CreateQueue", body: body)
        return try #require(response["QueueUrl"] as? String)
    }

    /// Returns the topic ARN.
    func createTopic(_ name: String, attributes: [String: String] = [:]) async throws -> String {
        var form: [(name: String, value: String)] = [("Action", "CreateTopic"), ("Version", "2010-03-31"), ("Name", name)]
        for (index, (key, value)) in attributes.sorted(by: { $0.key < $1.key }).enumerated() {
            form += [("Attributes.entry.\(index + 1).key", key), ("Attributes.entry.\(index + 1).value", value)]
        }
        let response = try await self.query(.sns, form)
        return try #require(response.firstValue(between: "<TopicArn>", and: "</TopicArn>"))
    }

    /// Subscribes an SQS queue (by ARN) to a topic, as the stack's subscriptions do.
    func subscribe(topicARN: String, queueARN: String) async throws {
        _ = try await self.query(
            .sns,
            [("Action", "Subscribe"), ("Version", "2010-03-31"), ("TopicArn", topicARN), ("Protocol", "sqs"), ("Endpoint", queueARN)])
    }

    func queueARN(_ queueURL: String) async throws -> String {
        let body = try JSONSerialization.data(withJSONObject: ["QueueUrl": queueURL, "AttributeNames": ["QueueArn"]])
        let response = try await self.json(.sqs, target: "AmazonSQS.GetQueueAttributes", body: body)
        return try #require((response["Attributes"] as? [String: String])?["QueueArn"])
    }

    func createEventTable(_ name: String) async throws {
        let body = try JSONSerialization.data(withJSONObject: [
            "TableName": name, "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [["AttributeName": "pk", "AttributeType": "S"], ["AttributeName": "sk", "AttributeType": "S"]],
            "KeySchema": [["AttributeName": "pk", "KeyType": "HASH"], ["AttributeName": "sk", "KeyType": "RANGE"]],
        ])
        _ = try await self.json(.dynamodb, target: "DynamoDB_20120810.CreateTable", body: body)
    }

    func putEventItem(table: String, key: String) async throws {
        let body = try JSONSerialization.data(withJSONObject: [
            "TableName": table, "Item": ["pk": ["S": key], "sk": ["S": key], "status": ["S": "CONFIRMED"]],
        ])
        _ = try await self.json(.dynamodb, target: "DynamoDB_20120810.PutItem", body: body)
    }

    /// `ApproximateNumberOfMessages` + `ApproximateNumberOfMessagesNotVisible`: what is still in the queue.
    func messagesLeft(_ queueURL: String) async throws -> Int {
        let body = try JSONSerialization.data(withJSONObject: [
            "QueueUrl": queueURL, "AttributeNames": ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        ])
        let attributes = try #require(try await self.json(.sqs, target: "AmazonSQS.GetQueueAttributes", body: body)["Attributes"] as? [String: String])
        return try #require(Int(attributes["ApproximateNumberOfMessages"] ?? "")) + #require(Int(attributes["ApproximateNumberOfMessagesNotVisible"] ?? ""))
    }

    private func json(_ service: AWSServices.Service, target: String, body: Data) async throws -> [String: Any] {
        let response = try await self.services.serviceClient(service).send(
            .init(
                operation: target, method: "POST",
                headers: HTTPHeaders([("Content-Type", "application/x-amz-json-1.0"), ("X-Amz-Target", target)]),
                body: SegmentedBody(bytes: Array(body))))
        return (try JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
    }

    private func query(_ service: AWSServices.Service, _ form: [(name: String, value: String)]) async throws -> String {
        try await self.services.serviceClient(service).send(
            .init(
                operation: "Query", method: "POST", headers: HTTPHeaders([("Content-Type", AWSQueryForm.contentType)]),
                body: SegmentedBody(AWSQueryForm.encode(form)))
        ).bodyText
    }
}

extension String {
    func firstValue(between open: String, and close: String) -> String? {
        guard let start = self.range(of: open), let end = self.range(of: close, range: start.upperBound..<self.endIndex) else { return nil }
        return String(self[start.upperBound..<end.lowerBound])
    }
}
