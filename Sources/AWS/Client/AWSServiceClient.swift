import Digest
import FileIO
import Foundation
import Logging

/// Signs and sends one service's requests, with the standard retry mode. Shared by the
/// S3, SQS, SNS and DynamoDB clients.
public struct AWSServiceClient: Sendable {
    /// One API call, before signing.
    public struct Call: Sendable {
        public var operation: String
        public var method: String
        /// Decoded path below the endpoint's base path.
        public var path: String
        public var query: [SigV4Request.QueryItem]
        public var headers: HTTPHeaders
        public var body: SegmentedBody
        /// The payload hash; computed from `body` when `nil` (pass it for file bodies, hashed while streaming).
        public var payload: SigV4Payload?
        /// Prepended to the endpoint host (`bucket.` for virtual-hosted S3).
        public var hostPrefix: String
        public var timeout: Duration?

        public init(
            operation: String, method: String, path: String = "/", query: [SigV4Request.QueryItem] = [],
            headers: HTTPHeaders = HTTPHeaders(), body: SegmentedBody = .empty, payload: SigV4Payload? = nil,
            hostPrefix: String = "", timeout: Duration? = nil
        ) {
            self.operation = operation
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
            self.body = body
            self.payload = payload
            self.hostPrefix = hostPrefix
            self.timeout = timeout
        }
    }

    /// The signing name (`s3`, `sqs`, `sns`, `dynamodb`).
    public let service: String
    public let region: String
    public let endpoint: AWSEndpoint
    public let credentials: any AWSCredentialProvider
    public let transport: any HTTPTransport
    public let retryPolicy: RetryPolicy
    public let signerOptions: SigV4Signer.Options
    public let errorFormat: AWSErrorFormat
    public let logger: Logger

    public init(
        service: String, region: String, endpoint: AWSEndpoint, credentials: any AWSCredentialProvider,
        transport: any HTTPTransport, retryPolicy: RetryPolicy = .standard, signerOptions: SigV4Signer.Options = .standard,
        errorFormat: AWSErrorFormat, logger: Logger
    ) {
        self.service = service
        self.region = region
        self.endpoint = endpoint
        self.credentials = credentials
        self.transport = transport
        self.retryPolicy = retryPolicy
        self.signerOptions = signerOptions
        self.errorFormat = errorFormat
        self.logger = logger
    }

    /// Sends the call until it succeeds (2xx), fails for good, or runs out of attempts.
    /// Throws `AWSError` for error responses and `HTTPTransportError` when no response came.
    public func send(_ call: Call) async throws -> HTTPResponse {
        let payload: SigV4Payload
        if let given = call.payload {
            payload = given
        } else {
            payload = .sha256Hex(try await call.body.computeDigests().sha256.hexString)
        }
        var attempt = 1
        while true {
            let failure: any Error
            do {
                let response = try await self.transport.send(try await self.signedRequest(call, payload: payload))
                if (200..<300).contains(response.status) { return response }
                failure = self.errorFormat.parse(response, service: self.service, operation: call.operation)
            } catch let error as HTTPTransportError {
                failure = error
            }
            let expired = (failure as? AWSError).map { Self.expiredCredentialCodes.contains($0.code) } ?? false
            guard attempt < self.retryPolicy.maxAttempts, expired || Self.isRetryable(failure) else { throw failure }
            if expired {
                // Temporary credentials ran out before their stated expiry: reload and re-sign at once.
                await self.credentials.invalidate()
                attempt += 1
                continue
            }
            let delay = self.retryPolicy.backoff(afterAttempt: attempt)
            self.logger.debug(
                "retrying AWS request",
                metadata: [
                    "aws.service": "\(self.service)", "aws.operation": "\(call.operation)",
                    "aws.attempt": "\(attempt)", "aws.error": "\(failure)",
                ])
            try await Task.sleep(for: delay)
            attempt += 1
        }
    }

    /// Codes saying the signature's credentials are no longer valid.
    static let expiredCredentialCodes: Set<String> = ["ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"]

    private static func isRetryable(_ error: any Error) -> Bool {
        switch error {
        case let error as AWSError: error.isRetryable
        case let error as HTTPTransportError: error.isRetryable
        default: false
        }
    }

    /// Signs with fresh credentials and the current time (each retry is signed anew).
    func signedRequest(_ call: Call, payload: SigV4Payload, date: Date = Date()) async throws -> HTTPRequest {
        let signer = SigV4Signer(
            credentials: try await self.credentials.credentials(), region: self.region, service: self.service,
            options: self.signerOptions)
        let endpoint = AWSEndpoint(
            scheme: self.endpoint.scheme, host: call.hostPrefix + self.endpoint.host, port: self.endpoint.port,
            basePath: self.endpoint.basePath)
        var headers = call.headers
        headers.replaceOrAdd(name: "Host", value: endpoint.hostHeader)
        var request = SigV4Request(
            method: call.method, path: SigV4Encoding.percentDecode(endpoint.basePath) + call.path, query: call.query,
            headers: headers)
        signer.sign(&request, payload: payload, date: date)
        let query = request.encodedQuery
        return HTTPRequest(
            method: call.method, url: endpoint.origin + request.encodedPath + (query.isEmpty ? "" : "?" + query),
            headers: request.headers, body: call.body, timeout: call.timeout)
    }
}
