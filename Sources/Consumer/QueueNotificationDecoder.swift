import Foundation

/// Reads queue message bodies: an S3 event notification (S3 → SQS), the same inside an SNS
/// notification envelope (S3 → SNS → SQS), and S3's `s3:TestEvent`.
public enum QueueNotificationDecoder {
    public static func decode(_ body: String) throws(QueueNotificationDecodingError) -> QueueNotification {
        let document = try Self.parse(body, what: "message body")
        if document.type != nil || document.message != nil {
            return try Self.decodeSNSNotification(document)
        }
        return try Self.decodeS3Notification(document)
    }

    private static func decodeSNSNotification(
        _ envelope: NotificationDocument
    ) throws(QueueNotificationDecodingError) -> QueueNotification {
        guard envelope.type == "Notification" else {
            throw QueueNotificationDecodingError("SNS message of type \(envelope.type ?? "(none)"), not Notification")
        }
        guard let message = envelope.message else {
            throw QueueNotificationDecodingError("SNS notification without a Message")
        }
        let inner = try Self.parse(message, what: "SNS Message")
        return try Self.decodeS3Notification(inner)
    }

    private static func decodeS3Notification(
        _ document: NotificationDocument
    ) throws(QueueNotificationDecodingError) -> QueueNotification {
        if let event = document.event {
            guard event == "s3:TestEvent" else {
                throw QueueNotificationDecodingError("S3 event \(event) is not s3:TestEvent")
            }
            return .testEvent
        }
        guard let records = document.records else {
            throw QueueNotificationDecodingError("neither an S3 event notification, an SNS notification nor an S3 test event")
        }
        guard !records.isEmpty else {
            throw QueueNotificationDecodingError("S3 event notification with no Records")
        }
        var objects: [ObjectReference] = []
        for (index, record) in records.enumerated() {
            objects.append(try Self.objectReference(record, index: index))
        }
        return .objectsCreated(objects)
    }

    private static func objectReference(
        _ record: NotificationDocument.Record, index: Int
    ) throws(QueueNotificationDecodingError) -> ObjectReference {
        guard let eventName = record.eventName, eventName.hasPrefix("ObjectCreated:") else {
            throw QueueNotificationDecodingError("record \(index): event \(record.eventName ?? "(none)") is not ObjectCreated")
        }
        guard let bucket = record.s3?.bucket?.name, !bucket.isEmpty else {
            throw QueueNotificationDecodingError("record \(index): no s3.bucket.name")
        }
        guard let encodedKey = record.s3?.object?.key, !encodedKey.isEmpty else {
            throw QueueNotificationDecodingError("record \(index): no s3.object.key")
        }
        guard let key = S3ObjectKey.decode(encodedKey) else {
            throw QueueNotificationDecodingError("record \(index): s3.object.key is not URL-encoded UTF-8")
        }
        return ObjectReference(bucket: bucket, key: key)
    }

    private static func parse(_ text: String, what: String) throws(QueueNotificationDecodingError) -> NotificationDocument {
        do {
            return try JSONDecoder().decode(NotificationDocument.self, from: Data(text.utf8))
        } catch {
            // The decoder's message may quote the body; name the shape problem only.
            throw QueueNotificationDecodingError("\(what) is not a JSON object of the expected shape")
        }
    }
}

/// The union of the fields of the three accepted shapes; each field is optional so one
/// decode tells the shapes apart.
private struct NotificationDocument: Decodable {
    struct Record: Decodable {
        var eventName: String?
        var s3: S3Entity?
    }

    struct S3Entity: Decodable {
        var bucket: Bucket?
        var object: Object?
    }

    struct Bucket: Decodable {
        var name: String?
    }

    struct Object: Decodable {
        var key: String?
    }

    var records: [Record]?
    var event: String?
    var type: String?
    var message: String?

    enum CodingKeys: String, CodingKey {
        case records = "Records"
        case event = "Event"
        case type = "Type"
        case message = "Message"
    }
}
