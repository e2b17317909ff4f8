import Foundation
import Notifications

/// `QueueNotification.decode` (S3 event, SNS envelope, S3 test event) and `S3EventKey`.
///
/// Invariants: decoding never crashes and fails with a reason; every decoded object has a
/// bucket and a key, and the key encodes (`S3EventKey.encode`) and decodes to itself; the
/// references written back as an S3 event, raw and inside an SNS envelope, decode to the
/// same references; `S3EventKey.decode` of the input, when it succeeds, round-trips too.
enum NotificationTarget {
    static func run(_ data: [UInt8]) {
        let body = String(decoding: data, as: UTF8.self)
        do {
            switch try QueueNotification.decode(body) {
            case .testEvent:
                break
            case .objectsCreated(let objects):
                require(!objects.isEmpty, "an event with no objects")
                for object in objects {
                    require(!object.bucket.isEmpty && !object.key.isEmpty, "an object without bucket or key: \(object)")
                    Self.requireKeyRoundTrip(object.key)
                }
                Self.requireReencodedEvent(objects)
            }
        } catch {
            require(!error.reason.isEmpty, "a decoding error without a reason")
        }
        if let key = S3EventKey.decode(body) {
            Self.requireKeyRoundTrip(key)
        }
    }

    private static func requireKeyRoundTrip(_ key: String) {
        let encoded = S3EventKey.encode(key)
        require(
            encoded.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") },
            "encoded key \(encoded.debugDescription) is not plain ASCII")
        require(S3EventKey.decode(encoded) == key, "key \(key.debugDescription) encodes to \(encoded) which does not decode to it")
    }

    private static func requireReencodedEvent(_ objects: [ObjectReference]) {
        let records = objects.map { object in
            S3EventNotification.objectCreated(
                bucketName: object.bucket, object: .init(key: object.key, size: 1, eTag: "00", sequencer: "01"),
                awsRegion: "us-east-1", configurationId: "cis", principalId: "cis", sourceIPAddress: "192.0.2.1",
                eventTime: "2026-01-01T00:00:00.000Z", requestId: "r", id2: "i"
            ).records[0]
        }
        guard let event = try? S3EventNotification(records: records).json() else {
            require(false, "the decoded references do not encode as an S3 event")
            return
        }
        let envelope = SNSNotificationEnvelope(
            message: event, topicArn: "arn:aws:sns:us-east-1:000000000000:cis", fallbackRegion: "us-east-1",
            date: Date(timeIntervalSince1970: 0))
        guard let wrapped = try? envelope.json() else {
            require(false, "the S3 event does not encode in an SNS envelope")
            return
        }
        for text in [event, wrapped] {
            let decoded = Result { () throws(QueueNotificationDecodingError) in try QueueNotification.decode(text) }
            require(decoded == .success(.objectsCreated(objects)), "\(objects) written back decode to \(decoded)")
        }
    }
}
