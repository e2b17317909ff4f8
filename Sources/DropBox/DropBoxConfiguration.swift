import Backends
import Foundation
import SMTPCore

/// How the drop box names objects and shapes notifications.
public struct DropBoxConfiguration: Sendable, Equatable {
    /// The form of the queue message body.
    public enum Envelope: Sendable, Equatable {
        /// The S3 event notification itself (S3 → SQS).
        case s3
        /// The S3 event wrapped in an SNS `Notification` (S3 → SNS → SQS) from this topic.
        case sns(topicArn: String)
    }

    /// Our name in the `Received:` header's `by` clause.
    public var hostname: String
    /// Prepended to the message id to form the object key.
    public var keyPrefix: String
    /// `awsRegion` of the event.
    public var awsRegion: String
    /// `s3.configurationId` of the event: the name of the bucket's notification configuration.
    public var configurationId: String
    public var envelope: Envelope
    /// `userIdentity.principalId` and the bucket's `ownerIdentity.principalId`.
    public var principalId: String

    public static let defaultKeyPrefix = "inbound/"
    /// `awsRegion` when no AWS region is configured (the embedded backends).
    public static let defaultAWSRegion = "us-east-1"
    public static let defaultConfigurationId = "cis-intake"
    public static let defaultPrincipalId = "cis"

    public init(
        hostname: String = HostName.local(),
        keyPrefix: String = Self.defaultKeyPrefix,
        awsRegion: String = Self.defaultAWSRegion,
        configurationId: String = Self.defaultConfigurationId,
        envelope: Envelope = .s3,
        principalId: String = Self.defaultPrincipalId
    ) {
        self.hostname = hostname
        self.keyPrefix = keyPrefix
        self.awsRegion = awsRegion
        self.configurationId = configurationId
        self.envelope = envelope
        self.principalId = principalId
    }

    /// Checks what would otherwise fail every delivery: an empty host name, or a key prefix
    /// that cannot start an object key. Called once at start-up.
    public func validate() throws(DropBoxConfigurationError) {
        if let problem = HostName.problem(with: self.hostname) {
            throw DropBoxConfigurationError(field: .hostname, problem: problem)
        }
        try Self.validateKeyPrefix(self.keyPrefix)
    }

    /// The one check of a key prefix: `<prefix><message id>` must be a key every object store
    /// accepts (`ObjectKeyPath`), so `/…`, `..`, `.meta/`, `a//` and control characters are refused.
    public static func validateKeyPrefix(_ prefix: String) throws(DropBoxConfigurationError) {
        if let problem = ObjectKeyPath.problem(with: prefix + "message-id") {
            throw DropBoxConfigurationError(field: .keyPrefix, problem: "is not a usable key prefix (\(problem))")
        }
    }
}

/// A drop box setting that would make every delivery fail.
public struct DropBoxConfigurationError: Error, CustomStringConvertible {
    public enum Field: String, Sendable {
        case hostname
        case keyPrefix = "key prefix"
    }

    public var field: Field
    /// Completes "'<value>' …".
    public var problem: String

    public var description: String { "\(self.field.rawValue) \(self.problem)" }
}
