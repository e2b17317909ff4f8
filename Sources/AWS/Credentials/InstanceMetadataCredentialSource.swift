import Foundation
/// EC2 instance metadata (IMDSv2): PUT a session token, GET the role name, GET its credentials.
/// Honours `AWS_EC2_METADATA_SERVICE_ENDPOINT` and `AWS_EC2_METADATA_DISABLED`.
public struct InstanceMetadataCredentialSource: AWSCredentialSource {
    public static let defaultEndpoint = "http://169.254.169.254"
    static let credentialsPath = "/latest/meta-data/iam/security-credentials/"

    public let environment: AWSEnvironment
    public let transport: any HTTPTransport
    public var name: String { "instance metadata" }

    public init(environment: AWSEnvironment, transport: any HTTPTransport) {
        self.environment = environment
        self.transport = transport
    }

    public var endpoint: String {
        let configured = self.environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] ?? Self.defaultEndpoint
        return configured.hasSuffix("/") ? String(configured.dropLast()) : configured
    }

    /// `nil` when disabled or when no metadata service answers (not on EC2);
    /// throws when the service answers but has no usable role credentials.
    public func load() async throws -> AWSCredentials? {
        if self.environment.isTrue("AWS_EC2_METADATA_DISABLED") { return nil }
        let tokenResponse: HTTPResponse
        do {
            tokenResponse = try await self.transport.send(
                HTTPRequest(
                    method: "PUT", url: self.endpoint + "/latest/api/token",
                    headers: HTTPHeaders([("X-aws-ec2-metadata-token-ttl-seconds", "21600")]), timeout: .seconds(2)))
        } catch {
            return nil
        }
        guard tokenResponse.status == 200 else {
            throw AWSConfigurationError("instance metadata token request answered HTTP \(tokenResponse.status)")
        }
        let token = tokenResponse.bodyText.trimmingCharacters(in: .whitespacesAndNewlines)
        let roleText = try await self.get(Self.credentialsPath, token: token).bodyText
        guard let role = roleText.split(whereSeparator: \.isNewline).first.map(String.init), !role.isEmpty else {
            throw AWSConfigurationError("instance metadata lists no IAM role: attach an instance profile")
        }
        let document = try await self.get(Self.credentialsPath + role, token: token)
        return try TemporaryCredentialsDocument.decode(document.body, source: "instance metadata role \(role)")
    }

    private func get(_ path: String, token: String) async throws -> HTTPResponse {
        let response: HTTPResponse
        do {
            response = try await self.transport.send(
                HTTPRequest(
                    method: "GET", url: self.endpoint + path,
                    headers: HTTPHeaders([("X-aws-ec2-metadata-token", token)]), timeout: .seconds(2)))
        } catch {
            throw AWSConfigurationError("instance metadata \(path) unreachable: \(error)")
        }
        guard response.status == 200 else {
            throw AWSConfigurationError("instance metadata \(path) answered HTTP \(response.status)")
        }
        return response
    }
}
