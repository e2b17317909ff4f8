import Backends
import Foundation

/// An S3 event wrapped as SNS delivers it to an SQS subscriber (raw delivery off).
///
/// cis holds no SNS signing key: `Signature` and `SigningCertURL` are empty, so a consumer
/// that verifies SNS signatures must be told to skip that for these messages.
struct SNSNotificationEnvelope: Encodable {
    var type = "Notification"
    var messageId: String
    var topicArn: String
    var subject = "Amazon S3 Notification"
    var message: String
    var timestamp: String
    var signatureVersion = "1"
    var signature = ""
    var signingCertURL = ""
    var unsubscribeURL: String

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

    init(message: String, topicArn: String, fallbackRegion: String, date: Date) {
        self.messageId = UUID().uuidString.lowercased()
        self.topicArn = topicArn
        self.message = message
        self.timestamp = ISO8601Timestamp.string(from: date)
        let arnParts = topicArn.split(separator: ":", omittingEmptySubsequences: false)
        let region = arnParts.count > 3 && !arnParts[3].isEmpty ? String(arnParts[3]) : fallbackRegion
        self.unsubscribeURL =
            "https://sns.\(region).amazonaws.com/?Action=Unsubscribe&SubscriptionArn=\(topicArn):\(UUID().uuidString.lowercased())"
    }

    func json() throws -> String {
        try NotificationJSON.encode(self)
    }
}
