import AWS
import FileIO
import Foundation
import Logging
import TestSupport
import Testing

@Suite("AWSServiceClient retries")
struct AWSServiceClientRetryTests {
    static func client(_ server: ScriptedHTTPServer, format: AWSErrorFormat = .json, maxAttempts: Int = 3) throws -> AWSServiceClient {
        AWSServiceClient(
            service: "sqs", region: "us-east-1", endpoint: try AWSEndpoint(url: server.url),
            credentials: AWSCredentialChain(sources: [StaticCredentialSource(AWSCredentials(accessKeyId: "AKID", secretAccessKey: "secret"))]),
            transport: CurlTransport(configuration: .init(workerCount: 2)),
            retryPolicy: RetryPolicy(maxAttempts: maxAttempts, baseDelay: .milliseconds(20), maxBackoff: .milliseconds(100)),
            errorFormat: format, logger: Logger(label: "test"))
    }

    static let call = AWSServiceClient.Call(operation: "Test", method: "POST", body: SegmentedBody("{}"))

    @Test("500 and 503 are retried until success, each attempt signed anew")
    func transientErrorsRetried() async throws {
        let server = try await ScriptedHTTPServer(plan: [
            .init(times: 1, status: 500, body: "{\"__type\":\"InternalError\",\"message\":\"boom\"}"),
            .init(times: 1, status: 503, body: ""),
            .init(status: 200, body: "{\"ok\":true}"),
        ])
        defer { server.stop() }
        let response = try await Self.client(server).send(Self.call)
        #expect(response.bodyText == "{\"ok\":true}")
        let requests = server.requests
        #expect(requests.count == 3)
        #expect(requests.allSatisfy { $0.headers["authorization"]?.hasPrefix("AWS4-HMAC-SHA256 Credential=AKID/") == true })
    }

    @Test("throttling codes are retried even on HTTP 400")
    func throttlingRetried() async throws {
        let server = try await ScriptedHTTPServer(plan: [
            .init(times: 2, status: 400, body: "{\"__type\":\"com.amazonaws.sqs#ThrottlingException\",\"message\":\"slow down\"}"),
            .init(status: 200, body: "{}"),
        ])
        defer { server.stop() }
        _ = try await Self.client(server).send(Self.call)
        #expect(server.requests.count == 3)
    }

    @Test("client errors are not retried and name service, code and message")
    func clientErrorNotRetried() async throws {
        let server = try await ScriptedHTTPServer(plan: [
            .init(
                status: 400, headers: ["x-amzn-query-error": "AWS.SimpleQueueService.NonExistentQueue;Sender"],
                body: "{\"__type\":\"com.amazonaws.sqs#QueueDoesNotExist\",\"message\":\"The specified queue does not exist.\"}")
        ])
        defer { server.stop() }
        await #expect {
            try await Self.client(server).send(Self.call)
        } throws: { error in
            guard let error = error as? AWSError else { return false }
            return error.service == "sqs" && error.operation == "Test" && error.code == "AWS.SimpleQueueService.NonExistentQueue"
                && error.message == "The specified queue does not exist." && !error.isRetryable
        }
        #expect(server.requests.count == 1)
    }

    @Test("a JSON-protocol service answering with an XML error (moto's bad-signature answer) names its code")
    func xmlErrorFromJSONService() async throws {
        let server = try await ScriptedHTTPServer(plan: [
            .init(
                status: 403, headers: ["Content-Type": "text/html; charset=utf-8"],
                body: #"<?xml version="1.0" encoding="utf-8"?>\#n<ErrorResponse><Errors><Error><Code>SignatureDoesNotMatch</Code>"#
                    + "<Message>The request signature we calculated does not match.</Message><Type>Sender</Type></Error></Errors></ErrorResponse>")
        ])
        defer { server.stop() }
        await #expect {
            try await Self.client(server).send(Self.call)
        } throws: { error in
            guard let error = error as? AWSError else { return false }
            return error.statusCode == 403 && error.code == "SignatureDoesNotMatch"
                && error.message == "The request signature we calculated does not match." && !error.isRetryable
        }
        #expect(server.requests.count == 1)
    }

    @Test("retries stop at maxAttempts and the last error is thrown as retryable")
    func attemptsBounded() async throws {
        let server = try await ScriptedHTTPServer(plan: [
            .init(status: 503, body: "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>")
        ])
        defer { server.stop() }
        await #expect {
            try await Self.client(server, format: .xml, maxAttempts: 4).send(Self.call)
        } throws: { error in
            (error as? AWSError)?.code == "SlowDown" && (error as? AWSError)?.isRetryable == true
        }
        #expect(server.requests.count == 4)
    }

    @Test("connection errors are retried, then surface as a transport error")
    func connectionErrorsRetried() async throws {
        let port = try unusedLoopbackPort()
        let client = AWSServiceClient(
            service: "s3", region: "us-east-1", endpoint: AWSEndpoint(scheme: "http", host: "127.0.0.1", port: port),
            credentials: AWSCredentialChain(sources: [StaticCredentialSource(AWSCredentials(accessKeyId: "AKID", secretAccessKey: "secret"))]),
            transport: CurlTransport(), retryPolicy: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(10)), signerOptions: .s3,
            errorFormat: .xml, logger: Logger(label: "test"))
        await #expect {
            try await client.send(.init(operation: "GetObject", method: "GET", path: "/bucket/key"))
        } throws: { error in
            (error as? HTTPTransportError)?.kind == .couldNotConnect
        }
    }

    @Test("full jitter stays within the exponential ceiling and the cap")
    func backoffBounds() {
        let policy = RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(100), maxBackoff: .milliseconds(300))
        for _ in 0..<200 {
            #expect(policy.backoff(afterAttempt: 1) <= .milliseconds(100))
            #expect(policy.backoff(afterAttempt: 2) <= .milliseconds(200))
            #expect(policy.backoff(afterAttempt: 6) <= .milliseconds(300))
            #expect(policy.backoff(afterAttempt: 1) >= .zero)
        }
        let samples = (0..<200).map { _ in policy.backoff(afterAttempt: 2) }
        #expect(Set(samples).count > 100, "delays are jittered")
    }
}

@Suite("AWSServiceClient with expired credentials")
struct ExpiredCredentialsTests {
    @Test("ExpiredToken reloads the credentials and re-signs at once")
    func expiredTokenReloads() async throws {
        let server = try await ScriptedHTTPServer(plan: [
            .init(method: "GET", path: "/creds", times: 1, status: 200,
                  body: #"{"AccessKeyId":"FIRST","SecretAccessKey":"s1","Token":"t1","Expiration":"2099-01-01T00:00:00Z"}"#),
            .init(method: "GET", path: "/creds", status: 200,
                  body: #"{"AccessKeyId":"SECOND","SecretAccessKey":"s2","Token":"t2","Expiration":"2099-01-01T00:00:00Z"}"#),
            .init(method: "POST", times: 1, status: 400,
                  body: #"{"__type":"com.amazon.coral.service#ExpiredTokenException","message":"The security token included in the request is expired"}"#),
            .init(method: "POST", status: 200, body: "{}"),
        ])
        defer { server.stop() }
        let transport = CurlTransport(configuration: .init(workerCount: 2))
        let chain = AWSCredentialChain(sources: [
            ContainerCredentialSource(
                environment: AWSEnvironment(["AWS_CONTAINER_CREDENTIALS_FULL_URI": server.url + "/creds"]), transport: transport)
        ])
        let client = AWSServiceClient(
            service: "sqs", region: "us-east-1", endpoint: try AWSEndpoint(url: server.url), credentials: chain,
            transport: transport, retryPolicy: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(20)), errorFormat: .json,
            logger: Logger(label: "test"))
        _ = try await client.send(.init(operation: "SendMessage", method: "POST", body: SegmentedBody("{}")))
        let posts = server.requests.filter { $0.method == "POST" }
        #expect(posts.count == 2)
        #expect(posts[0].headers["authorization"]?.contains("Credential=FIRST/") == true)
        #expect(posts[1].headers["authorization"]?.contains("Credential=SECOND/") == true)
        #expect(posts[1].headers["x-amz-security-token"] == "t2")
    }
}
