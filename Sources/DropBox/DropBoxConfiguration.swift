import Backends
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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

    public init(
        hostname: String = DropBoxConfiguration.localHostName(),
        keyPrefix: String = "inbound/",
        awsRegion: String = "us-east-1",
        configurationId: String = "cis-intake",
        envelope: Envelope = .s3,
        principalId: String = "cis"
    ) {
        self.hostname = hostname
        self.keyPrefix = keyPrefix
        self.awsRegion = awsRegion
        self.configurationId = configurationId
        self.envelope = envelope
        self.principalId = principalId
    }

    /// Checks what would otherwise fail every delivery: an empty host name, or a key prefix
    /// that cannot start an object key (`/…`, `..`, control characters; see `ObjectKeyPath`).
    public func validate() throws {
        guard !self.hostname.isEmpty, !self.hostname.contains(where: { $0.isWhitespace || $0.isNewline }) else {
            throw BackendError(.invalidArgument, backend: "dropbox", operation: "configure", message: "invalid hostname \(self.hostname.debugDescription)")
        }
        try ObjectKeyPath.validate(self.keyPrefix + "message-id")
    }

    /// The machine's host name from `gethostname(2)`, without any name lookup.
    public static func localHostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name
    }
}
