import Foundation
/// One place credentials can come from, in the order the SDKs try them.
public protocol AWSCredentialSource: Sendable {
    /// Names the source in errors and logs (`environment`, `profile default`, `container`, `instance metadata`).
    var name: String { get }

    /// `nil` when this source is not configured (try the next one); throws when it is
    /// configured but failed.
    func load() async throws -> AWSCredentials?
}

/// Fixed keys (tests, or keys passed explicitly).
public struct StaticCredentialSource: AWSCredentialSource {
    public let credentials: AWSCredentials
    public var name: String { "static" }

    public init(_ credentials: AWSCredentials) {
        self.credentials = credentials
    }

    public func load() async throws -> AWSCredentials? { self.credentials }
}

/// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`.
public struct EnvironmentCredentialSource: AWSCredentialSource {
    public let environment: AWSEnvironment
    public var name: String { "environment" }

    public init(environment: AWSEnvironment) {
        self.environment = environment
    }

    public func load() async throws -> AWSCredentials? {
        let accessKey = self.environment["AWS_ACCESS_KEY_ID"]
        let secret = self.environment["AWS_SECRET_ACCESS_KEY"]
        switch (accessKey, secret) {
        case (nil, nil):
            return nil
        case (let accessKey?, let secret?):
            return AWSCredentials(accessKeyId: accessKey, secretAccessKey: secret, sessionToken: self.environment["AWS_SESSION_TOKEN"])
        default:
            throw AWSConfigurationError("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together")
        }
    }
}

/// `aws_access_key_id`, `aws_secret_access_key`, `aws_session_token` of the selected profile,
/// from the credentials file, else from the config file.
public struct ProfileCredentialSource: AWSCredentialSource {
    public let environment: AWSEnvironment
    public var name: String { "profile \(self.environment.profileName)" }

    public init(environment: AWSEnvironment) {
        self.environment = environment
    }

    public func load() async throws -> AWSCredentials? {
        for settings in [try self.environment.credentialsProfile(), try self.environment.configProfile()] {
            let accessKey = settings["aws_access_key_id"]
            let secret = settings["aws_secret_access_key"]
            if let accessKey, let secret, !accessKey.isEmpty, !secret.isEmpty {
                return AWSCredentials(
                    accessKeyId: accessKey, secretAccessKey: secret,
                    sessionToken: settings["aws_session_token"].flatMap { $0.isEmpty ? nil : $0 })
            }
            if accessKey != nil || secret != nil {
                throw AWSConfigurationError(
                    "profile \(self.environment.profileName) has only one of aws_access_key_id and aws_secret_access_key")
            }
        }
        if self.environment["AWS_PROFILE"] != nil {
            throw AWSConfigurationError(
                "AWS_PROFILE=\(self.environment.profileName) names a profile without static keys in "
                    + "\(self.environment.credentialsFilePath) or \(self.environment.configFilePath)")
        }
        return nil
    }
}
