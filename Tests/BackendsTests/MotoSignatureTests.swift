import AWS
import Backends
import FileIO
import Foundation
import Logging
import Testing

/// The moto_server of `make test` verifies SigV4: it refuses what a wrong key signed, so the
/// other moto-backed tests passing means cis's S3, SQS, SNS and DynamoDB requests are signed
/// as AWS checks them.
@Suite("moto verifies cis's signatures")
struct MotoSignatureTests {
    /// One cheap call per service, as cis's own client sends it.
    static func listCall(_ service: AWSServices.Service) -> AWSServiceClient.Call {
        switch service {
        case .s3:
            return .init(operation: "ListBuckets", method: "GET", path: "/")
        case .sqs:
            return .init(
                operation: "ListQueues", method: "POST",
                headers: HTTPHeaders([("Content-Type", "application/x-amz-json-1.0"), ("X-Amz-Target", "AmazonSQS.ListQueues")]),
                body: SegmentedBody("{}"))
        case .sns:
            return .init(
                operation: "ListTopics", method: "POST", headers: HTTPHeaders([("Content-Type", AWSQueryForm.contentType)]),
                body: SegmentedBody(AWSQueryForm.encode([("Action", "ListTopics"), ("Version", "2010-03-31")])))
        case .dynamodb:
            return .init(
                operation: "ListTables", method: "POST",
                headers: HTTPHeaders([("Content-Type", "application/x-amz-json-1.0"), ("X-Amz-Target", "DynamoDB_20120810.ListTables")]),
                body: SegmentedBody("{}"))
        }
    }

    static func services(_ moto: MotoServer, _ credentials: AWSCredentials) throws -> AWSServices {
        try MotoServer.services(endpoint: moto.endpoint, credentials: credentials, retryPolicy: RetryPolicy(maxAttempts: 1))
    }

    @Test(
        "a request signed with a wrong secret is refused 403 SignatureDoesNotMatch, an unknown key 403, the IAM user's keys pass",
        arguments: AWSServices.Service.allCases)
    func wrongSecretRefused(service: AWSServices.Service) async throws {
        let moto = try MotoServer()
        let wrongSecret = AWSCredentials(accessKeyId: moto.credentials.accessKeyId, secretAccessKey: moto.credentials.secretAccessKey + "x")
        await #expect {
            try await Self.services(moto, wrongSecret).serviceClient(service).send(Self.listCall(service))
        } throws: { error in
            let error = error as? AWSError
            return error?.statusCode == 403 && error?.code == "SignatureDoesNotMatch"
        }
        let unknownKey = AWSCredentials(accessKeyId: "AKIAUNKNOWNUNKNOWN00", secretAccessKey: moto.credentials.secretAccessKey)
        await #expect {
            try await Self.services(moto, unknownKey).serviceClient(service).send(Self.listCall(service))
        } throws: { error in
            let error = error as? AWSError
            return error?.statusCode == 403 && ["InvalidAccessKeyId", "InvalidClientTokenId"].contains(error?.code ?? "")
        }
        let response = try await Self.services(moto, moto.credentials).serviceClient(service).send(Self.listCall(service))
        #expect(response.status == 200)
    }

    @Test("SNS Publish of spaces, + / ~ *, unicode, & =, newlines and JSON passes the check and arrives unchanged")
    func publishTrickyText() async throws {
        let moto = try MotoServer()
        let topicARN = try await moto.createTopic(MotoServer.uniqueName("cis-signed"))
        let queueURL = try await moto.createQueue(MotoServer.uniqueName("cis-signed-sub"))
        try await moto.subscribe(topicARN: topicARN, queueARN: try await moto.queueARN(queueURL))
        let message = #"{"summary":"Plan + review / Q3 ~ *draft* & \"go\" = yes","where":"Café 会议 🗓️","notes":"a\nb\r\nc\td  e"}"#
        let attributes = ["method": "REQUEST", "summary": "a b+c/d~e*f&g=h é", "uid": "u 1@example.com"]
        let messageId = try await moto.services.sns().publish(
            topicARN: topicARN, message: message, subject: "Design review: 10:00 + coffee ☕", attributes: attributes)
        #expect(!messageId.isEmpty)

        let delivered = try await SQSMessageQueue(sqs: try moto.services.sqs(), queueURL: queueURL)
            .receive(maxMessages: 1, visibilityTimeout: 30, waitTime: 2)
        let body = try #require(delivered.first).body
        let envelope = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        #expect(envelope["Message"] as? String == message)
        #expect(envelope["Subject"] as? String == "Design review: 10:00 + coffee ☕")
        let received = try #require(envelope["MessageAttributes"] as? [String: [String: String]])
        #expect(received.mapValues { $0["Value"] ?? "" } == attributes)
    }
}
