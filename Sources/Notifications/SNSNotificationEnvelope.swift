import Foundation

/// An S3 event wrapped as SNS delivers it to an SQS subscriber (raw delivery off).
///
/// cis holds no SNS signing key: `Signature` and `SigningCertURL` are empty, so a consumer
/// that verifies SNS signatures must be told to skip that for these messages.
public struct SNSNotificationEnvelope: Codable, Sendable, Equatable {
    public var type: String
    public var messageId: String
    public var topicArn: String
    public var subject: String
    public var message: String
    public var timestamp: String
    public var signatureVersion: String
    public var signature: String
    public var signingCertURL: String
    public var unsubscribeURL: String

    enum CodingKeys: String, CodingKey {
        case type = "Type"
        case messageId = "MessageId"
        case topicArn = "TopicArn"
        case subject = "Subject"
        case message = "Message"
        case timestamp = "Timestamp"
        case signatureVersion = "SignatureVersion"
        case signature = "Signature"
        case signingCertURL = "SigningCertURL"
        case unsubscribeURL = "UnsubscribeURL"
    }

    /// The `Notification` SNS delivers for `message` (an S3 event's JSON) published to `topicArn`.
    public init(message: String, topicArn: String, fallbackRegion: String, date: Date) {
        self.type = "Notification"
        self.messageId = UUID().uuidString.lowercased()
        self.topicArn = topicArn
        self.subject = "Amazon S3 Notification"
        self.message = message
        self.timestamp = ISO8601Timestamp.string(from: date)
        self.signatureVersion = "1"
        self.signature = ""
        self.signingCertURL = ""
        let arnParts = topicArn.split(separator: ":", omittingEmptySubsequences: false)
        let region = arnParts.count > 3 && !arnParts[3].isEmpty ? String(arnParts[3]) : fallbackRegion
        self.unsubscribeURL =
            "https://sns.\(region).amazonaws.com/?Action=Unsubscribe&SubscriptionArn=\(topicArn):\(UUID().uuidString.lowercased())"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.type = try container.decode(String.self, forKey: .type, default: "")
        self.messageId = try container.decode(String.self, forKey: .messageId, default: "")
        self.topicArn = try container.decode(String.self, forKey: .topicArn, default: "")
        self.subject = try container.decode(String.self, forKey: .subject, default: "")
        self.message = try container.decode(String.self, forKey: .message, default: "")
        self.timestamp = try container.decode(String.self, forKey: .timestamp, default: "")
        self.signatureVersion = try container.decode(String.self, forKey: .signatureVersion, default: "")
        self.signature = try container.decode(String.self, forKey: .signature, default: "")
        self.signingCertURL = try container.decode(String.self, forKey: .signingCertURL, default: "")
        self.unsubscribeURL = try container.decode(String.self, forKey: .unsubscribeURL, default: "")
    }

    public func json() throws -> String {
        try NotificationJSON.encode(self)
    }
}
