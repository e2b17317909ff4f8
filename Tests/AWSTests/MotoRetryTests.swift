import AWS
import FileIO
import Foundation
import Logging
import Testing
import TestSupport

/// Retries end to end: a loopback proxy answers 500 and 503 before passing requests on to
/// moto_server (`CIS_TEST_MOTO_ENDPOINT`, started by `make test`, verifying signatures against
/// the IAM user's keys it exports).
@Suite("Retries through a flaky proxy to moto")
struct MotoRetryTests {
    /// S3 at `endpoint` (moto, or the proxy in front of it), signing with moto's IAM user's keys.
    static func s3(_ endpoint: String, _ moto: MotoEnvironment) throws -> S3Client {
        try AWSServices(
            region: "us-east-1",
            credentials: AWSCredentialChain(sources: [
                StaticCredentialSource(AWSCredentials(accessKeyId: moto.accessKeyId, secretAccessKey: moto.secretAccessKey))
            ]),
            transport: CurlTransport(), environment: AWSEnvironment(["AWS_ENDPOINT_URL_S3": endpoint]),
            retryPolicy: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(20)), logger: Logger(label: "test")
        ).s3()
    }

    @Test("PutObject answered 500 then 503 is retried and stored exactly once")
    func putRetried() async throws {
        let moto = try MotoEnvironment.require()
        let bucket = "cis-retry-\(UUID().uuidString.prefix(8).lowercased())"
        _ = try await Self.s3(moto.endpoint, moto).client.send(.init(operation: "CreateBucket", method: "PUT", path: "/\(bucket)"))
        let proxy = try await ScriptedHTTPServer(plan: [
            .init(method: "PUT", times: 1, status: 500, body: "<Error><Code>InternalError</Code><Message>try again</Message></Error>"),
            .init(method: "PUT", times: 1, status: 503, body: "<Error><Code>SlowDown</Code><Message>slow</Message></Error>"),
            .init(proxy: moto.endpoint),
        ])
        defer { proxy.stop() }
        let body = Array("retried message".utf8)
        _ = try await Self.s3(proxy.url, moto).putObject(
            bucket: bucket, key: "inbound/retried", body: SegmentedBody(bytes: body), metadata: ["mail-from": "a@example.com"])
        let puts = proxy.requests.filter { $0.method == "PUT" }
        #expect(puts.count == 3)
        #expect(Set(puts.map(\.body_sha256)).count == 1, "the same body each attempt")
        let stored = try await Self.s3(moto.endpoint, moto).getObject(bucket: bucket, key: "inbound/retried")
        #expect(stored.body == body)
        #expect(stored.metadata["mail-from"] == "a@example.com")
    }
}
