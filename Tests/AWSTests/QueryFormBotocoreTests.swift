import FileIO
import Foundation
import Logging
import Testing

@testable import AWS

/// Query-protocol bodies (SNS; SQS and DynamoDB speak JSON) against the bytes a real botocore
/// client sends for the same parameters, and against the body a verifying server rebuilds from
/// ours before hashing it (moto parses the form and encodes it again as botocore does).
@Suite("Query-protocol bodies are botocore's, byte for byte")
struct QueryFormBotocoreTests {
    struct PublishCase: Sendable {
        var topicARN: String
        var message: String
        var subject: String?
        var attributes: [String: String]
        var deduplicationId: String?
        var messageGroupId: String?
    }

    static let tricky = "a b  c+d/e~f*g%20h&i=j?k#l;m:n,o@p$q!r'(s)[t]{u}|v\\w^x`y<z>\t\n\r\nend"

    static let cases: [PublishCase] = [
        PublishCase(
            topicARN: "arn:aws:sns:us-east-1:123456789012:cis-create",
            message: #"{"summary":"Planning & review <Q3> = \"go\"","description":"line 1\nline 2"}"#,
            subject: "Design review: 10:00 + coffee", attributes: ["method": "REQUEST", "uid": "u-1+2/3~4*5@example.com"]),
        PublishCase(
            topicARN: "arn:aws:sns:eu-west-1:123456789012:cis-update", message: Self.tricky, subject: Self.tricky,
            attributes: ["method": "REQUEST", "note": Self.tricky, "uid": "=&=&"]),
        PublishCase(
            topicARN: "arn:aws:sns:us-east-1:123456789012:cis-cancel",
            message: "Réunion d’équipe — 会议 🗓️ Ωmega \u{00A0}nbsp \u{2028}sep \u{1F600}", subject: "Ünïcödé 日本語 ✓",
            attributes: ["method": "CANCEL", "summary": "Café ☕ + crème / brûlée ~ 50%"]),
        PublishCase(
            topicARN: "arn:aws:sns:us-east-1:123456789012:cis-reply.fifo", message: "{}", subject: nil,
            attributes: ["method": "REPLY"], deduplicationId: "u 1+2/3~4*5", messageGroupId: "group a+b"),
        PublishCase(
            topicARN: "arn:aws:sns:us-east-1:123456789012:cis-failure.fifo", message: "", subject: nil, attributes: [:],
            deduplicationId: "dedup=1&2", messageGroupId: nil),
    ]

    @Test("SNS Publish bodies for spaces, + / ~ *, unicode, & =, newlines and JSON equal botocore's bytes")
    func publishBodies() throws {
        var inputs: [[String: Any]] = []
        var ours: [String] = []
        for testCase in Self.cases {
            let structured = try SNSClient.structuredMessage(testCase.message)
            let parameters = SNSClient.publishParameters(
                topicARN: testCase.topicARN, structuredMessage: structured, subject: testCase.subject,
                attributes: testCase.attributes, deduplicationId: testCase.deduplicationId, messageGroupId: testCase.messageGroupId)
            let body = AWSQueryForm.encode(parameters)
            ours.append(body)
            // The same call as a boto3 user writes it.
            var params: [String: Any] = ["TopicArn": testCase.topicARN, "Message": structured, "MessageStructure": "json"]
            if let subject = testCase.subject { params["Subject"] = subject }
            if !testCase.attributes.isEmpty {
                params["MessageAttributes"] = testCase.attributes.mapValues { ["DataType": "String", "StringValue": $0] }
            }
            if SNSClient.isFIFO(testCase.topicARN) {
                if let deduplicationId = testCase.deduplicationId { params["MessageDeduplicationId"] = deduplicationId }
                params["MessageGroupId"] = testCase.messageGroupId ?? testCase.deduplicationId ?? "default"
            }
            inputs.append(["service": "sns", "operation": "Publish", "params": params, "ours": body])
        }
        let answers = try #require(try PythonScript.run("botocore_query_body.py", input: inputs) as? [[String: String]])
        try #require(answers.count == ours.count)
        for (index, body) in ours.enumerated() {
            let botocore = try #require(answers[index]["botocore"])
            let reencoded = try #require(answers[index]["reencoded"])
            #expect(Array(body.utf8) == Array(botocore.utf8), "case \(index): ours\n\(body)\nbotocore\n\(botocore)")
            #expect(Array(body.utf8) == Array(reencoded.utf8), "case \(index): a verifying server would hash\n\(reencoded)")
        }
        // The encodings that differ from SigV4's URI encoding: a space is `+`, a `+` is `%2B`.
        #expect(ours[0].contains("&Subject=Design+review%3A+10%3A00+%2B+coffee&"))
    }

    @Test("each byte outside A-Z a-z 0-9 - _ . ~ is %XX in upper case, a space is +")
    func encodesEveryByte() {
        #expect(AWSQueryForm.encode("AZaz09-_.~") == "AZaz09-_.~")
        #expect(AWSQueryForm.encode(" +/*%&=\n") == "+%2B%2F%2A%25%26%3D%0A")
        #expect(AWSQueryForm.encode("é€😀") == "%C3%A9%E2%82%AC%F0%9F%98%80")
        #expect(AWSQueryForm.encode([("Name", "a b"), ("Empty", "")]) == "Name=a+b&Empty=")
    }

    @Test("SNSClient.publish sends that body, and its signature over it is botocore's")
    func publishSendsTheBody() async throws {
        let transport = RecordingTransport(
            answer: HTTPResponse(
                status: 200, headers: HTTPHeaders(),
                body: Array("<PublishResponse><PublishResult><MessageId>m-1</MessageId></PublishResult></PublishResponse>".utf8)))
        let client = AWSServiceClient(
            service: "sns", region: "us-east-1", endpoint: try AWSEndpoint(url: "http://127.0.0.1:4566"),
            credentials: AWSCredentialChain(sources: [
                StaticCredentialSource(AWSCredentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"))
            ]),
            transport: transport, errorFormat: .xml, logger: Logger(label: "test"))
        let topic = "arn:aws:sns:us-east-1:123456789012:cis-create"
        let messageId = try await SNSClient(client: client).publish(
            topicARN: topic, message: Self.tricky, subject: "a b+c", attributes: ["uid": "x y/z"])
        #expect(messageId == "m-1")
        let request = try #require(await transport.requests.first)
        let sent = try BotocoreSignerTests.bytes(request.body)
        let expected = AWSQueryForm.encode(
            SNSClient.publishParameters(
                topicARN: topic, structuredMessage: try SNSClient.structuredMessage(Self.tricky), subject: "a b+c",
                attributes: ["uid": "x y/z"], deduplicationId: nil, messageGroupId: nil))
        #expect(sent == Array(expected.utf8))
        #expect(request.headers["Content-Type"] == AWSQueryForm.contentType)

        var headers: [String: String] = [:]
        for field in request.headers where !["authorization", "x-amz-date", "host"].contains(field.name.lowercased()) {
            headers[field.name] = field.value
        }
        let signed = try BotocoreSignerTests.runBotocore([
            [
                "service": "sns", "region": "us-east-1", "method": "POST", "url": request.url,
                "headers": String(decoding: try JSONSerialization.data(withJSONObject: headers), as: UTF8.self),
                "body": String(decoding: sent, as: UTF8.self), "access_key": "AKIDEXAMPLE",
                "secret_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "token": nil, "timestamp": request.headers["X-Amz-Date"],
            ]
        ])
        #expect(request.headers["Authorization"] == signed.first?["Authorization"] ?? nil)
    }
}
