import Foundation
import Logging

/// The resolved AWS settings (region, credentials, endpoints) and a factory for the clients.
/// `resolve` fails once, at start, with one clear message when something is missing.
public struct AWSServices: Sendable {
    public let region: String
    public let credentials: any AWSCredentialProvider
    public let transport: any HTTPTransport
    public let environment: AWSEnvironment
    public let retryPolicy: RetryPolicy
    public let logger: Logger

    public init(
        region: String, credentials: any AWSCredentialProvider, transport: any HTTPTransport,
        environment: AWSEnvironment = AWSEnvironment([:]), retryPolicy: RetryPolicy = .standard, logger: Logger
    ) {
        self.region = region
        self.credentials = credentials
        self.transport = transport
        self.environment = environment
        self.retryPolicy = retryPolicy
        self.logger = logger
    }

    /// Region from `AWS_REGION`/`AWS_DEFAULT_REGION`/the profile, credentials from the SDK default
    /// chain (loaded once here, so missing credentials are reported now and not per message).
    public static func resolve(
        environment: AWSEnvironment = AWSEnvironment(), transport: any HTTPTransport, retryPolicy: RetryPolicy = .standard,
        logger: Logger
    ) async throws -> AWSServices {
        guard let region = try environment.region() else {
            throw AWSConfigurationError(
                "no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION, or region in the profile of \(environment.configFilePath))")
        }
        let chain = AWSCredentialChain.defaultChain(environment: environment, transport: transport)
        _ = try await chain.credentials()
        return AWSServices(
            region: region, credentials: chain, transport: transport, environment: environment, retryPolicy: retryPolicy,
            logger: logger)
    }

    /// The services this package talks to: signing name, endpoint prefix, env variable suffix.
    public enum Service: String, Sendable, CaseIterable {
        case s3, sqs, sns, dynamodb

        var environmentSuffix: String { self.rawValue.uppercased() }
        var errorFormat: AWSErrorFormat {
            switch self {
            case .s3, .sns: .xml
            case .sqs, .dynamodb: .json
            }
        }
    }

    /// `AWS_ENDPOINT_URL_<SERVICE>`, `AWS_ENDPOINT_URL`, the profile's `endpoint_url`, else the
    /// regional AWS endpoint. `overridden` tells S3 to use path-style addressing.
    public func endpoint(for service: Service) throws -> (endpoint: AWSEndpoint, overridden: Bool) {
        if let url = try self.environment.endpointOverride(serviceVariableSuffix: service.environmentSuffix) {
            return (try AWSEndpoint(url: url), true)
        }
        let domain = self.region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
        return (AWSEndpoint(scheme: "https", host: "\(service.rawValue).\(self.region).\(domain)"), false)
    }

    public func serviceClient(_ service: Service) throws -> AWSServiceClient {
        var logger = self.logger
        logger[metadataKey: "aws.service"] = "\(service.rawValue)"
        return AWSServiceClient(
            service: service.rawValue, region: self.region, endpoint: try self.endpoint(for: service).endpoint,
            credentials: self.credentials, transport: self.transport, retryPolicy: self.retryPolicy,
            signerOptions: service == .s3 ? .s3 : .standard, errorFormat: service.errorFormat, logger: logger)
    }

    /// Path-style when `forcePathStyle` or when the S3 endpoint is overridden.
    public func s3(forcePathStyle: Bool = false) throws -> S3Client {
        let overridden = try self.endpoint(for: .s3).overridden
        return S3Client(client: try self.serviceClient(.s3), pathStyle: forcePathStyle || overridden)
    }

    public func sqs() throws -> SQSClient { SQSClient(client: try self.serviceClient(.sqs)) }
    public func sns() throws -> SNSClient { SNSClient(client: try self.serviceClient(.sns)) }
    public func dynamoDB() throws -> DynamoDBClient { DynamoDBClient(client: try self.serviceClient(.dynamodb)) }
}
