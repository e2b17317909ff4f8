import Foundation

extension QueueNotification {
    /// Reads a queue message body: an S3 event notification (S3 → SQS), the same inside an
    /// SNS notification envelope (S3 → SNS → SQS), or S3's `s3:TestEvent`.
    public static func decode(_ body: String) throws(QueueNotificationDecodingError) -> QueueNotification {
        let shape = try Self.parse(BodyShape.self, body, what: "message body")
        if shape.isSNSNotification {
            let envelope = try Self.parse(SNSNotificationEnvelope.self, body, what: "message body")
            guard envelope.type == "Notification" else {
                throw QueueNotificationDecodingError("SNS message of type \(envelope.type.isEmpty ? "(none)" : envelope.type), not Notification")
            }
            guard shape.hasMessage else {
                throw QueueNotificationDecodingError("SNS notification without a Message")
            }
            let inner = try Self.parse(BodyShape.self, envelope.message, what: "SNS Message")
            return try Self.decodeS3Notification(inner, text: envelope.message, what: "SNS Message")
        }
        return try Self.decodeS3Notification(shape, text: body, what: "message body")
    }

    private static func decodeS3Notification(
        _ shape: BodyShape, text: String, what: String
    ) throws(QueueNotificationDecodingError) -> QueueNotification {
        if shape.isTestEvent {
            let event = try Self.parse(S3TestEvent.self, text, what: what)
            guard event.event == "s3:TestEvent" else {
                throw QueueNotificationDecodingError("S3 event \(event.event) is not s3:TestEvent")
            }
            return .testEvent
        }
        guard shape.hasRecords else {
            throw QueueNotificationDecodingError("neither an S3 event notification, an SNS notification nor an S3 test event")
        }
        let notification = try Self.parse(S3EventNotification.self, text, what: what)
        guard !notification.records.isEmpty else {
            throw QueueNotificationDecodingError("S3 event notification with no Records")
        }
        var objects: [ObjectReference] = []
        for (index, record) in notification.records.enumerated() {
            objects.append(try Self.objectReference(record, index: index))
        }
        return .objectsCreated(objects)
    }

    private static func objectReference(
        _ record: S3EventNotification.Record, index: Int
    ) throws(QueueNotificationDecodingError) -> ObjectReference {
        guard record.eventName.hasPrefix("ObjectCreated:") else {
            let name = record.eventName.isEmpty ? "(none)" : record.eventName
            throw QueueNotificationDecodingError("record \(index): event \(name) is not ObjectCreated")
        }
        guard !record.s3.bucket.name.isEmpty else {
            throw QueueNotificationDecodingError("record \(index): no s3.bucket.name")
        }
        guard !record.s3.object.encodedKey.isEmpty else {
            throw QueueNotificationDecodingError("record \(index): no s3.object.key")
        }
        guard let key = record.s3.object.key else {
            throw QueueNotificationDecodingError("record \(index): s3.object.key is not URL-encoded UTF-8")
        }
        return ObjectReference(bucket: record.s3.bucket.name, key: key)
    }

    private static func parse<Value: Decodable>(
        _ type: Value.Type, _ text: String, what: String
    ) throws(QueueNotificationDecodingError) -> Value {
        do {
            return try NotificationJSON.decode(type, from: text)
        } catch {
            // The decoder's message may quote the body; name the shape problem only.
            throw QueueNotificationDecodingError("\(what) is not a JSON object of the expected shape")
        }
    }
}

/// Which of the three accepted shapes a body has, told apart by their top-level keys.
private struct BodyShape: Decodable {
    var isSNSNotification: Bool
    var hasMessage: Bool
    var isTestEvent: Bool
    var hasRecords: Bool

    enum CodingKeys: String, CodingKey {
        case records = "Records"
        case event = "Event"
        case type = "Type"
        case message = "Message"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.hasMessage = container.contains(.message)
        self.isSNSNotification = container.contains(.type) || self.hasMessage
        self.isTestEvent = container.contains(.event)
        self.hasRecords = container.contains(.records)
    }
}
