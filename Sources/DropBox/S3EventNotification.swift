import Backends
import Digest
import Foundation

/// The body of an S3 `ObjectCreated:Put` event notification, field for field as S3 sends it
/// (event structure version 2.1), so that an existing consumer of S3 → SQS works unchanged.
struct S3EventNotification: Encodable {
    var records: [Record]

    enum CodingKeys: String, CodingKey {
        case records = "Records"
    }

    struct Record: Encodable {
        var eventVersion = "2.1"
        var eventSource = "aws:s3"
        var awsRegion: String
        /// ISO 8601 with milliseconds, UTC.
        var eventTime: String
        var eventName = "ObjectCreated:Put"
        var userIdentity: Identity
        var requestParameters: RequestParameters
        var responseElements: ResponseElements
        var s3: S3
    }

    struct Identity: Encodable {
        var principalId: String
    }

    struct RequestParameters: Encodable {
        var sourceIPAddress: String
    }

    struct ResponseElements: Encodable {
        var requestId: String
        var id2: String

        enum CodingKeys: String, CodingKey {
            case requestId = "x-amz-request-id"
            case id2 = "x-amz-id-2"
        }
    }

    struct S3: Encodable {
        var s3SchemaVersion = "1.0"
        var configurationId: String
        var bucket: Bucket
        var object: Object
    }

    struct Bucket: Encodable {
        var name: String
        var ownerIdentity: Identity
        var arn: String
    }

    struct Object: Encodable {
        /// URL-encoded as S3 encodes keys in notifications (`S3KeyEncoding`).
        var key: String
        var size: Int
        var eTag: String
        var sequencer: String
    }

    /// The event for a stored object. `sourceIPAddress` is the SMTP client's address:
    /// the origin of the object's content.
    init(
        object: StoredObject, bucketName: String, configuration: DropBoxConfiguration,
        clientAddress: String, eventTime: Date, sequencer: String
    ) {
        let record = Record(
            awsRegion: configuration.awsRegion,
            eventTime: ISO8601Timestamp.string(from: eventTime),
            userIdentity: Identity(principalId: configuration.principalId),
            requestParameters: RequestParameters(sourceIPAddress: clientAddress),
            responseElements: ResponseElements(
                requestId: Digest.randomBytes(8).hexString.uppercased(),
                id2: Data(Digest.randomBytes(48)).base64EncodedString()),
            s3: S3(
                configurationId: configuration.configurationId,
                bucket: Bucket(
                    name: bucketName, ownerIdentity: Identity(principalId: configuration.principalId),
                    arn: "arn:aws:s3:::\(bucketName)"),
                object: Object(key: S3KeyEncoding.encode(object.key), size: object.size, eTag: object.eTag, sequencer: sequencer)))
        self.records = [record]
    }

    func json() throws -> String {
        try NotificationJSON.encode(self)
    }
}

enum NotificationJSON {
    static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
