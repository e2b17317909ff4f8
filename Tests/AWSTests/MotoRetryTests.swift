import AWS
import FileIO
import Foundation
import Logging
import Testing

/// Retries end to end: a loopback proxy answers 500 and 503 before passing requests on to
/// moto_server (`CIS_TEST_MOTO_ENDPOINT`, started by `make test`, verifying signatures against
/// the IAM user's keys it exports as `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`).
@Suite("Retries through a flaky proxy to moto")
struct MotoRetryTests {
    static func motoEndpoint() throws -> String {
        guard let endpoint = ProcessInfo.processInfo.environment["CIS_TEST_MOTO_ENDPOINT"], !endpoint.isEmpty else {
            Issue.record("CIS_TEST_MOTO_ENDPOINT is not set: run `make test` (it starts moto_server), or start moto_server on 127.0.0.1 and export it")
            throw ScriptedHTTPServer.ServerFailed(message: "moto not running")
        }
        return endpoint
    }

    static func motoCredentials() throws -> AWSCredentials {
        let environment = ProcessInfo.processInfo.environment
        guard let key = environment["AWS_ACCESS_KEY_ID"], !key.isEmpty, let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty
        else {
            Issue.record(
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must hold moto's IAM user's keys: run `make test`, or export what scripts/moto_iam_user.py prints")
            throw ScriptedHTTPServer.ServerFailed(message: "no moto keys")
        }
        return AWSCredentials(accessKeyId: key, secretAccessKey: secret)
    }

    static func s3(_ endpoint: String) throws -> S3Client {
        try AWSServices(
            region: "us-east-1",
            credentials: AWSCredentialChain(sources: [StaticCredentialSource(try Self.motoCredentials())]),
            transport: CurlTransport(), environment: AWSEnvironment(["AWS_ENDPOINT_URL_S3": endpoint]),
            retryPolicy: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(20)), logger: Logger(label: "test")
        ).s3()
    }

    @Test("PutObject answered 500 then 503 is retried and stored exactly once")
    func putRetried() async throws {
        let moto = try Self.motoEndpoint()
        let bucket = "cis-retry-\(UUID().uuidString.prefix(8).lowercased())"
        _ = try await Self.s3(moto).client.send(.init(operation: "CreateBucket", method: "PUT", path: "/\(bucket)"))
        let proxy = try await ScriptedHTTPServer(plan: [
            .init(method: "PUT", times: 1, status: 500, body: "<Error><Code>InternalError</Code><Message>try again</Message></Error>"),
            .init(method: "PUT", times: 1, status: 503, body: "<Error><Code>SlowDown</Code><Message>slow</Message></Error>"),
            .init(proxy: moto),
        ])
        defer { proxy.stop() }
        let body = Array("retried message".utf8)
        _ = try await Self.s3(proxy.url).putObject(
            bucket: bucket, key: "inbound/retried", body: SegmentedBody(bytes: body), metadata: ["mail-from": "a@example.com"])
        let puts = proxy.requests.filter { $0.method == "PUT" }
        #expect(puts.count == 3)
        #expect(Set(puts.map(\.body_sha256)).count == 1, "the same body each attempt")
        let stored = try await Self.s3(moto).getObject(bucket: bucket, key: "inbound/retried")
        #expect(stored.body == body)
        #expect(stored.metadata["mail-from"] == "a@example.com")
    }
}
