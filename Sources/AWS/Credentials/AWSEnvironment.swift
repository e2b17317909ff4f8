import Foundation

/// The process environment as the AWS settings see it (injectable for tests), and the
/// profile files it points at.
public struct AWSEnvironment: Sendable {
    public var variables: [String: String]

    public init(_ variables: [String: String] = ProcessInfo.processInfo.environment) {
        self.variables = variables
    }

    /// A set, non-empty variable.
    public subscript(name: String) -> String? {
        guard let value = self.variables[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }

    public var profileName: String {
        self["AWS_PROFILE"] ?? self["AWS_DEFAULT_PROFILE"] ?? "default"
    }

    private var home: String {
        self["HOME"] ?? NSHomeDirectory()
    }

    public var credentialsFilePath: String {
        self["AWS_SHARED_CREDENTIALS_FILE"] ?? "\(self.home)/.aws/credentials"
    }

    public var configFilePath: String {
        self["AWS_CONFIG_FILE"] ?? "\(self.home)/.aws/config"
    }

    /// The selected profile's settings from the config file (`[profile name]`).
    public func configProfile() throws -> [String: String] {
        try AWSProfileFile.load(path: self.configFilePath, kind: .config).profiles[self.profileName] ?? [:]
    }

    /// The selected profile's settings from the credentials file (`[name]`).
    public func credentialsProfile() throws -> [String: String] {
        try AWSProfileFile.load(path: self.credentialsFilePath, kind: .credentials).profiles[self.profileName] ?? [:]
    }

    /// `AWS_REGION`, then `AWS_DEFAULT_REGION`, then the profile's `region`.
    public func region() throws -> String? {
        if let region = self["AWS_REGION"] ?? self["AWS_DEFAULT_REGION"] { return region }
        return try self.configProfile()["region"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// `AWS_ENDPOINT_URL_<SERVICE>`, then `AWS_ENDPOINT_URL`, then the profile's `endpoint_url`.
    public func endpointOverride(serviceVariableSuffix suffix: String) throws -> String? {
        if let url = self["AWS_ENDPOINT_URL_\(suffix)"] ?? self["AWS_ENDPOINT_URL"] { return url }
        return try self.configProfile()["endpoint_url"].flatMap { $0.isEmpty ? nil : $0 }
    }

    public func isTrue(_ name: String) -> Bool {
        self[name]?.lowercased() == "true"
    }
}
