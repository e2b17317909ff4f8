import Foundation
import Testing

@testable import Notifications

/// Every shape that travels between intake and consumer decodes to what was encoded.
@Suite("Notification shapes round-trip")
struct RoundTripTests {
    static let awkwardKeys = [
        "inbound/01jd3k9v8q2x7m4n5p6r7s8t9w",
        "inbound/with space",
        "inbound/plus+sign",
        "inbound/percent%25sign%",
        "inbound/Fwd: Team sync + lunché",
        "inbound/日本語/キー",
        "a/b/c/d",
        "inbound/~tilde_under-dot.",
        "inbound/emoji 📅",
        "inbound/?&=#\"'<>",
    ]

    static func event(key: String) -> S3EventNotification {
        S3EventNotification.objectCreated(
            bucketName: "cis-invites",
            object: .init(key: key, size: 4111, eTag: "d41d8cd98f00b204e9800998ecf8427e", sequencer: "0055AED6DCD90281E5"),
            awsRegion: "eu-west-1", configurationId: "cis-intake", principalId: "cis", sourceIPAddress: "2001:db8::25",
            eventTime: "2026-12-02T05:00:00.123Z", requestId: "C3D13FE58DE4C810",
            id2: "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD")
    }

    @Test(arguments: Self.awkwardKeys)
    func keyEncodingRoundTrips(key: String) {
        let encoded = S3EventKey.encode(key)
        #expect(!encoded.contains(" "))
        #expect(encoded.utf8.allSatisfy { $0 < 0x80 })
        #expect(S3EventKey.decode(encoded) == key)
    }

    @Test func keyEncodingMatchesS3() {
        #expect(S3EventKey.encode("inbound/Fwd: Team sync + lunché") == "inbound/Fwd%3A+Team+sync+%2B+lunch%C3%A9")
        #expect(S3EventKey.encode("a%b") == "a%25b")
    }

    @Test(arguments: Self.awkwardKeys)
    func s3EventRoundTrips(key: String) throws {
        let event = Self.event(key: key)
        let json = try event.json()
        #expect(try NotificationJSON.decode(S3EventNotification.self, from: json) == event)
        #expect(try QueueNotification.decode(json) == .objectsCreated([ObjectReference(bucket: "cis-invites", key: key)]))
    }

    /// The event's direct writer against the Codable form it replaced (`NotificationJSON.encode`:
    /// JSONEncoder with sorted keys): the same bytes, awkward keys and field values included.
    @Test(arguments: Self.awkwardKeys)
    func s3EventJSONIsTheEncodersByteForByte(key: String) throws {
        var event = Self.event(key: key)
        #expect(try event.json() == NotificationJSON.encode(event))
        event.records[0].requestParameters.sourceIPAddress = "a\"quote\\back/slash é 日本 📅"
        event.records[0].s3.bucket = .init(name: "bucket.with-dots", ownerPrincipalId: "AIDA/owner+id")
        event.records[0].s3.object.size = Int.max
        event.records.append(Self.event(key: key + "/second").records[0])
        #expect(try event.json() == NotificationJSON.encode(event))
        #expect(try NotificationJSON.decode(S3EventNotification.self, from: event.json()) == event)
    }

    @Test func s3EventJSONEscapesControlCharacters() throws {
        var event = Self.event(key: "inbound/x")
        event.records[0].eventName = "tab\tnewline\nbell\u{07}nul\u{00}del\u{7F}"
        let json = try event.json()
        #expect(json.contains(#""eventName":"tab\tnewline\nbell\u0007nul\u0000del\#u{7F}""#))
        #expect(try NotificationJSON.decode(S3EventNotification.self, from: json) == event)
    }

    @Test func s3EventHasS3sFieldNames() throws {
        let json = try Self.event(key: "inbound/x").json()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let record = try #require((object["Records"] as? [[String: Any]])?.first)
        #expect(Set(record.keys) == [
            "eventVersion", "eventSource", "awsRegion", "eventTime", "eventName", "userIdentity", "requestParameters",
            "responseElements", "s3",
        ])
        #expect(record["eventName"] as? String == "ObjectCreated:Put")
        #expect(record["eventVersion"] as? String == "2.1")
        let responseElements = try #require(record["responseElements"] as? [String: String])
        #expect(Set(responseElements.keys) == ["x-amz-request-id", "x-amz-id-2"])
        let s3 = try #require(record["s3"] as? [String: Any])
        let bucket = try #require(s3["bucket"] as? [String: Any])
        #expect(bucket["arn"] as? String == "arn:aws:s3:::cis-invites")
        let objectEntity = try #require(s3["object"] as? [String: Any])
        #expect(Set(objectEntity.keys) == ["key", "size", "eTag", "sequencer"])
        #expect(objectEntity["size"] as? Int == 4111)
    }

    @Test(arguments: Self.awkwardKeys)
    func snsEnvelopeRoundTrips(key: String) throws {
        let inner = try Self.event(key: key).json()
        let envelope = SNSNotificationEnvelope(
            message: inner, topicArn: "arn:aws:sns:eu-central-1:123456789012:intake", fallbackRegion: "us-east-1",
            date: Date(timeIntervalSince1970: 1_796_000_000))
        let json = try envelope.json()
        let decoded = try NotificationJSON.decode(SNSNotificationEnvelope.self, from: json)
        #expect(decoded == envelope)
        #expect(decoded.unsubscribeURL.hasPrefix("https://sns.eu-central-1.amazonaws.com/"))
        #expect(try QueueNotification.decode(json) == .objectsCreated([ObjectReference(bucket: "cis-invites", key: key)]))
    }

    @Test func snsEnvelopeFallsBackToTheConfiguredRegion() {
        let envelope = SNSNotificationEnvelope(message: "{}", topicArn: "not-an-arn", fallbackRegion: "ap-south-1", date: Date())
        #expect(envelope.unsubscribeURL.hasPrefix("https://sns.ap-south-1.amazonaws.com/"))
    }

    @Test func testEventRoundTrips() throws {
        let event = S3TestEvent(
            time: "2026-12-02T05:00:00.000Z", bucket: "cis-invites", requestId: "5582815E1AEA5ADF", hostId: "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR")
        let json = try NotificationJSON.encode(event)
        #expect(try NotificationJSON.decode(S3TestEvent.self, from: json) == event)
        #expect(try QueueNotification.decode(json) == .testEvent)
    }

    @Test(arguments: Self.awkwardKeys)
    func envelopeMetadataRoundTrips(helo: String) {
        let metadata = MessageEnvelopeMetadata(
            messageId: "01jd3k9v8q2x7m4n5p6r7s8t9w", mailFrom: "jörg@exämple.de", recipients: ["create@example.com", "create+team@example.com"],
            clientAddress: "2001:db8::25", clientPort: 50123, helo: helo, protocolName: "UTF8SMTPS", tls: true,
            receivedAt: "2026-12-02T05:00:00.123Z")
        #expect(MessageEnvelopeMetadata(dictionary: metadata.dictionary) == metadata)
    }

    @Test func envelopeMetadataUsesTheDocumentedKeys() {
        let metadata = MessageEnvelopeMetadata(
            messageId: "m", mailFrom: "", recipients: ["create@example.com"], clientAddress: "192.0.2.1", clientPort: 25,
            helo: "mx.example.org", protocolName: "ESMTP", tls: false, receivedAt: "t")
        #expect(metadata.dictionary == [
            "message-id": "m", "mail-from": "", "recipients": "create@example.com", "client-address": "192.0.2.1",
            "client-port": "25", "helo": "mx.example.org", "protocol": "ESMTP", "tls": "false", "received-at": "t",
        ])
    }

    @Test func metadataFromElsewhereReadsAsEmpty() {
        let metadata = MessageEnvelopeMetadata(dictionary: ["client-port": "not a port", "tls": "yes"])
        #expect(metadata.mailFrom == "")
        #expect(metadata.recipients == [])
        #expect(metadata.clientPort == 0)
        #expect(metadata.tls == false)
    }

    @Test func routesAreTheTopicNames() throws {
        #expect(Route.allCases.map(\.rawValue) == ["create", "update", "cancel", "reply", "failure"])
        for route in Route.allCases {
            let json = try NotificationJSON.encode([route])
            #expect(try NotificationJSON.decode([Route].self, from: json) == [route])
        }
    }
}
