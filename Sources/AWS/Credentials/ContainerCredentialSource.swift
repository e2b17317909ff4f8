import Foundation

/// The ECS/EKS container credentials endpoint: `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`
/// (against 169.254.170.2) or `AWS_CONTAINER_CREDENTIALS_FULL_URI`, with
/// `AWS_CONTAINER_AUTHORIZATION_TOKEN` (or `_TOKEN_FILE`) as the Authorization header.
public struct ContainerCredentialSource: AWSCredentialSource {
    public static let relativeURIHost = "http://169.254.170.2"

    public let environment: AWSEnvironment
    public let transport: any HTTPTransport
    public var name: String { "container" }

    public init(environment: AWSEnvironment, transport: any HTTPTransport) {
        self.environment = environment
        self.transport = transport
    }

    public func load() async throws -> AWSCredentials? {
        let url: String
        if let relative = self.environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] {
            url = Self.relativeURIHost + (relative.hasPrefix("/") ? relative : "/" + relative)
        } else if let full = self.environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"] {
            url = full
        } else {
            return nil
        }
        var headers = HTTPHeaders()
        if let token = try self.authorizationToken() {
            headers.add(name: "Authorization", value: token)
        }
        let response: HTTPResponse
        do {
            response = try await self.transport.send(HTTPRequest(method: "GET", url: url, headers: headers, timeout: .seconds(5)))
        } catch {
            throw AWSConfigurationError("container credentials endpoint \(url) unreachable: \(error)")
        }
        guard response.status == 200 else {
            throw AWSConfigurationError("container credentials endpoint \(url) answered HTTP \(response.status): \(response.bodyText)")
        }
        return try TemporaryCredentialsDocument.decode(response.body, source: "container credentials endpoint \(url)")
    }

    private func authorizationToken() throws -> String? {
        if let token = self.environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"] { return token }
        guard let path = self.environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] else { return nil }
        do {
            return try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            throw AWSConfigurationError("cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \(path): \(error)")
        }
    }
}

/// The JSON both the container endpoint and IMDS return for temporary credentials.
enum TemporaryCredentialsDocument {
    private struct Document: Decodable {
        var Code: String?
        var Message: String?
        var AccessKeyId: String?
        var SecretAccessKey: String?
        var Token: String?
        var Expiration: String?
    }

    static func decode(_ body: [UInt8], source: String) throws -> AWSCredentials {
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: Data(body))
        } catch {
            throw AWSConfigurationError("\(source) returned unreadable credentials: \(error)")
        }
        if let code = document.Code, code != "Success" {
            throw AWSConfigurationError("\(source) returned \(code): \(document.Message ?? "")")
        }
        guard let accessKey = document.AccessKeyId, let secret = document.SecretAccessKey else {
            throw AWSConfigurationError("\(source) returned no AccessKeyId/SecretAccessKey")
        }
        var expiration: Date?
        if let text = document.Expiration {
            guard let parsed = Self.parseTimestamp(text) else {
                throw AWSConfigurationError("\(source) returned an unreadable Expiration \"\(text)\"")
            }
            expiration = parsed
        }
        return AWSCredentials(accessKeyId: accessKey, secretAccessKey: secret, sessionToken: document.Token, expiration: expiration)
    }

    static func parseTimestamp(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }
}
