import Foundation
import Testing

@testable import Notifications

@Suite("Queue notification decoding")
struct QueueNotificationDecoderTests {
    /// An S3 event notification as S3 sends it to SQS (fields as in AWS's documentation).
    static let s3Event = """
        {"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",\
        "eventTime":"2026-11-25T15:00:00.000Z","eventName":"ObjectCreated:Put",\
        "userIdentity":{"principalId":"AWS:EXAMPLE"},"requestParameters":{"sourceIPAddress":"127.0.0.1"},\
        "responseElements":{"x-amz-request-id":"C3D13FE58DE4C810"},\
        "s3":{"s3SchemaVersion":"1.0","configurationId":"cis-intake",\
        "bucket":{"name":"invites","ownerIdentity":{"principalId":"EXAMPLE"},"arn":"arn:aws:s3:::invites"},\
        "object":{"key":"incoming/Fwd%3A+Team+sync+%2B+lunch%C3%A9","size":1024,\
        "eTag":"d41d8cd98f00b204e9800998ecf8427e","sequencer":"0055AED6DCD90281E5"}}}]}
        """

    @Test func rawS3EventGivesTheDecodedKey() throws {
        let notification = try QueueNotification.decode(Self.s3Event)
        #expect(notification == .objectsCreated([ObjectReference(bucket: "invites", key: "incoming/Fwd: Team sync + lunché")]))
    }

    @Test func severalRecordsKeepTheirOrder() throws {
        let body = """
            {"Records":[\
            {"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"first"}}},\
            {"eventName":"ObjectCreated:CompleteMultipartUpload","s3":{"bucket":{"name":"b"},"object":{"key":"second"}}}]}
            """
        let notification = try QueueNotification.decode(body)
        #expect(
            notification
                == .objectsCreated([ObjectReference(bucket: "b", key: "first"), ObjectReference(bucket: "b", key: "second")]))
    }

    @Test func snsEnvelopeAroundAnS3Event() throws {
        let envelope: [String: String] = [
            "Type": "Notification",
            "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:intake",
            "Subject": "Amazon S3 Notification",
            "Message": Self.s3Event,
            "Timestamp": "2026-11-25T15:00:00.000Z",
            "SignatureVersion": "1",
        ]
        let notification = try QueueNotification.decode(try Self.json(envelope))
        #expect(notification == .objectsCreated([ObjectReference(bucket: "invites", key: "incoming/Fwd: Team sync + lunché")]))
    }

    @Test func s3TestEvent() throws {
        let body = """
            {"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-25T15:00:00.000Z",\
            "Bucket":"invites","RequestId":"5582815E1AEA5ADF","HostId":"8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE"}
            """
        #expect(try QueueNotification.decode(body) == .testEvent)
    }

    @Test func s3TestEventInsideAnSNSEnvelope() throws {
        let inner = #"{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"invites"}"#
        let body = try Self.json(["Type": "Notification", "Message": inner])
        #expect(try QueueNotification.decode(body) == .testEvent)
    }

    @Test(arguments: [
        ("not json at all", "message body is not a JSON object"),
        ("[1,2,3]", "message body is not a JSON object"),
        ("{}", "neither an S3 event notification"),
        (#"{"Records":[]}"#, "no Records"),
        (#"{"Records":"nope"}"#, "message body is not a JSON object"),
        (#"{"Records":[{"eventName":"ObjectRemoved:Delete","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}"#, "is not ObjectCreated"),
        (#"{"Records":[{"eventName":"ObjectCreated:Put","s3":{"object":{"key":"k"}}}]}"#, "no s3.bucket.name"),
        (#"{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{}}}]}"#, "no s3.object.key"),
        (#"{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"bad%zz"}}}]}"#, "not URL-encoded"),
        (#"{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"cut%4"}}}]}"#, "not URL-encoded"),
        (#"{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"%FF%FE"}}}]}"#, "not URL-encoded"),
        (#"{"Event":"s3:SomethingElse"}"#, "is not s3:TestEvent"),
        (#"{"Type":"SubscriptionConfirmation","Message":"confirm"}"#, "not Notification"),
        (#"{"Type":"Notification"}"#, "without a Message"),
        (#"{"Type":"Notification","Message":"junk"}"#, "SNS Message is not a JSON object"),
    ])
    func junkIsRejectedWithAReason(body: String, reason: String) {
        #expect {
            try QueueNotification.decode(body)
        } throws: { error in
            (error as? QueueNotificationDecodingError)?.reason.contains(reason) == true
        }
    }

    /// Members the consumer does not need may be `null` or absent, and unknown members of any type are ignored.
    @Test func nullAndUnknownMembersAreAccepted() throws {
        let body = """
             { "Records" : [ {"eventName":"ObjectCreated:Put","eventTime":null,"userIdentity":null,\
            "glacierEventData":{"restoreEventData":[1,2.5e3,{"x":null}]},\
            "s3":{"configurationId":null,"bucket":{"name":"b","ownerIdentity":null},\
            "object":{"key":"incoming\\/caf%C3%A9\\u002b+x","size":null,"versionId":"v1"}}} ] }\t
            """
        #expect(try QueueNotification.decode(body) == .objectsCreated([ObjectReference(bucket: "b", key: "incoming/café  x")]))
    }

    /// The reader checks what the Codable shapes checked: a member present with another type,
    /// `Records` that is not an array of objects, and what a strict reader refuses.
    @Test(arguments: [
        #"{"Records":null}"#,
        #"{"Records":[null]}"#,
        #"{"Records":[{"eventName":"ObjectCreated:Put","awsRegion":5,"s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}"#,
        #"{"Records":[{"eventName":"ObjectCreated:Put","userIdentity":"x","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}"#,
        #"{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k","size":"12"}}}]}"#,
        #"{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k","size":1.5}}}]}"#,
        #"{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":["b"]},"object":{"key":"k"}}}]}"#,
        #"{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k","key":"other"}}}]}"#,
        #"{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}},]}"#,
        #"{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k\ud800"}}}]}"#,
        #"{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]"#,
        #"{"Event":5}"#,
        #"{"Type":"Notification","Message":"{}","Timestamp":5}"#,
        #"{"Type":"Notification","Message":null}"#,
    ])
    func misshapenBodiesAreRejected(body: String) {
        #expect {
            try QueueNotification.decode(body)
        } throws: { error in
            (error as? QueueNotificationDecodingError)?.reason.contains("is not a JSON object of the expected shape") == true
        }
    }

    @Test func aDeeplyNestedBodyIsRejectedNotACrash() {
        let body = #"{"Records":[{"x":"# + String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000) + "}]}"
        #expect(throws: QueueNotificationDecodingError.self) { try QueueNotification.decode(body) }
    }

    /// Every body the intake writes (through Foundation's encoder) reads back, escapes and all.
    @Test func readsWhatTheEncoderWrites() throws {
        for key in ["plain", "incoming/Fwd: Team sync + lunch\u{e9}", "quote\"back\\slash", "tab\tnew\nline", "emoji 😀/€"] {
            let event = S3EventNotification.objectCreated(
                bucketName: "cis-invites", object: .init(key: key, size: 10, eTag: "e", sequencer: "s"), awsRegion: "r",
                configurationId: "c", principalId: "p", sourceIPAddress: "127.0.0.1", eventTime: "t", requestId: "q", id2: "i")
            let json = try event.json()
            #expect(try QueueNotification.decode(json) == .objectsCreated([ObjectReference(bucket: "cis-invites", key: key)]))
            let envelope = SNSNotificationEnvelope(message: json, topicArn: "arn:aws:sns:eu-west-1:1:t", fallbackRegion: "r", date: Date())
            #expect(try QueueNotification.decode(try envelope.json()) == .objectsCreated([ObjectReference(bucket: "cis-invites", key: key)]))
        }
    }

    @Test func rejectionDoesNotQuoteTheBody() {
        let secret = "a-private-body-line"
        #expect {
            try QueueNotification.decode("{\"Records\": [\"\(secret)\"]}")
        } throws: { error in
            !String(describing: error).contains(secret)
        }
    }

    private static func json(_ object: [String: String]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }
}
