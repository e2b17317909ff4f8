import FileIO
import Foundation
import Logging
import Testing

@testable import AWS

/// Our signed requests against botocore's signer (python3 + botocore compute the expected
/// Authorization header for the same method, URL, headers, body, keys and time).
@Suite("SigV4 agrees with botocore")
struct BotocoreSignerTests {
    struct Case: Sendable {
        var service: AWSServices.Service
        var endpoint: String
        var call: AWSServiceClient.Call
        var token: String?
    }

    static let date = Date(timeIntervalSince1970: 1_717_000_000)  // 2024-05-29T16:26:40Z

    static let cases: [Case] = [
        Case(
            service: .sqs, endpoint: "http://127.0.0.1:4566",
            call: .init(
                operation: "SendMessage", method: "POST",
                headers: HTTPHeaders([("Content-Type", "application/x-amz-json-1.0"), ("X-Amz-Target", "AmazonSQS.SendMessage")]),
                body: SegmentedBody(#"{"QueueUrl":"http://127.0.0.1:4566/000000000000/q","MessageBody":"{\"Records\":[]}"}"#)),
            token: "FQoGZXIvYXdzEJr//////////token"),
        Case(
            service: .sns, endpoint: "https://sns.eu-west-1.amazonaws.com",
            call: .init(
                operation: "Publish", method: "POST",
                headers: HTTPHeaders([("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")]),
                body: SegmentedBody("Action=Publish&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aeu-west-1%3A1%3At&Message=%7B%7D")),
            token: nil),
        Case(
            service: .s3, endpoint: "http://127.0.0.1:9000",
            call: .init(
                operation: "PutObject", method: "PUT", path: "/my-bucket/inbox/a b+ü=&.eml",
                headers: HTTPHeaders([
                    ("Content-Type", "message/rfc822"), ("Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg=="),
                    ("x-amz-meta-envelope-from", "alice@example.com"), ("x-amz-meta-tls", "true"),
                    ("x-amz-server-side-encryption", "aws:kms"), ("x-amz-server-side-encryption-aws-kms-key-id", "alias/cis"),
                ]),
                body: SegmentedBody("Subject: hi\r\n\r\nbody\r\n")),
            token: "s3-session-token"),
        Case(
            service: .s3, endpoint: "https://s3.us-east-1.amazonaws.com",
            call: .init(operation: "GetObject", method: "GET", path: "/x/y~z%.eml", hostPrefix: "cis-bucket."),
            token: nil),
        Case(
            service: .dynamodb, endpoint: "https://dynamodb.us-east-1.amazonaws.com",
            call: .init(
                operation: "GetItem", method: "POST",
                headers: HTTPHeaders([("Content-Type", "application/x-amz-json-1.0"), ("X-Amz-Target", "DynamoDB_20120810.GetItem")]),
                body: SegmentedBody(#"{"TableName":"events","Key":{"pk":{"S":"original_event#u1"},"sk":{"S":"original_event#u1"}}}"#)),
            token: nil),
    ]

    @Test("Authorization, X-Amz-Date and payload hash match botocore for S3, SQS, SNS and DynamoDB requests")
    func matchesBotocore() async throws {
        var requests: [HTTPRequest] = []
        var inputs: [[String: String?]] = []
        for testCase in Self.cases {
            let region = URL(string: testCase.endpoint)!.host!.contains("eu-west-1") ? "eu-west-1" : "us-east-1"
            let client = AWSServiceClient(
                service: testCase.service.rawValue, region: region, endpoint: try AWSEndpoint(url: testCase.endpoint),
                credentials: AWSCredentialChain(sources: [
                    StaticCredentialSource(
                        AWSCredentials(
                            accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                            sessionToken: testCase.token))
                ]),
                transport: RecordingTransport(answer: HTTPResponse(status: 200, headers: HTTPHeaders(), body: [])),
                signerOptions: testCase.service == .s3 ? .s3 : .standard, errorFormat: .xml, logger: Logger(label: "test"))
            let bodyText = String(decoding: try Self.bytes(testCase.call.body), as: UTF8.self)
            let request = try await client.signedRequest(
                testCase.call, payload: .hashing(try Self.bytes(testCase.call.body)), date: Self.date)
            requests.append(request)
            var headers: [String: String] = [:]
            let added: Set<String> = ["authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256", "host"]
            for field in request.headers where !added.contains(field.name.lowercased()) {
                headers[field.name] = field.value
            }
            let headersJSON = String(decoding: try JSONSerialization.data(withJSONObject: headers), as: UTF8.self)
            inputs.append([
                "service": testCase.service.rawValue, "region": region, "method": request.method, "url": request.url,
                "headers": headersJSON, "body": bodyText, "access_key": "AKIDEXAMPLE",
                "secret_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "token": testCase.token, "timestamp": "20240529T162640Z",
            ])
        }
        let expected = try Self.runBotocore(inputs)
        try #require(expected.count == requests.count)
        for (index, request) in requests.enumerated() {
            let name = "\(Self.cases[index].service) \(Self.cases[index].call.operation)"
            #expect(request.headers["Authorization"] == expected[index]["Authorization"] ?? nil, "\(name)")
            #expect(request.headers["X-Amz-Date"] == expected[index]["X-Amz-Date"] ?? nil, "\(name)")
            #expect(request.headers["X-Amz-Security-Token"] == expected[index]["X-Amz-Security-Token"] ?? nil, "\(name)")
            if Self.cases[index].service == .s3 {
                #expect(request.headers["x-amz-content-sha256"] == expected[index]["X-Amz-Content-SHA256"] ?? nil, "\(name)")
            }
        }
        // The S3 key went out encoded once, as S3 expects.
        #expect(requests[2].url == "http://127.0.0.1:9000/my-bucket/inbox/a%20b%2B%C3%BC%3D%26.eml")
        #expect(requests[3].url == "https://cis-bucket.s3.us-east-1.amazonaws.com/x/y~z%25.eml")
    }

    static func bytes(_ body: SegmentedBody) throws -> [UInt8] {
        body.segments.flatMap { segment -> [UInt8] in
            if case .bytes(let bytes) = segment { return bytes }
            return []
        }
    }

    /// Runs botocore_sign.py; headers travel as a JSON string inside each case.
    static func runBotocore(_ inputs: [[String: String?]]) throws -> [[String: String?]] {
        let wrapped: [[String: Any]] = try inputs.map { input in
            var object: [String: Any] = [:]
            for (key, value) in input {
                if key == "headers", let value {
                    object[key] = try JSONSerialization.jsonObject(with: Data(value.utf8))
                } else {
                    object[key] = value ?? NSNull()
                }
            }
            return object
        }
        guard let decoded = try PythonScript.run("botocore_sign.py", input: wrapped) as? [[String: Any]] else {
            throw PythonScript.Failed(description: "botocore_sign.py answered something other than a list of cases")
        }
        return decoded.map { $0.mapValues { $0 as? String } }
    }
}
