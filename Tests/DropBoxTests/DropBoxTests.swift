import Backends
import Digest
import DropBox
import FileIO
import Foundation
import Logging
import SMTPCore
import TestSupport
import Testing

/// A drop box over real embedded backends in a temp dir.
struct DropBoxFixture {
    let directory: TemporaryDirectory
    let store: FileSystemObjectStore
    let queue: SQLiteMessageQueue
    let dropBox: DropBox

    /// - Parameter journaled: the store journals the notifications (as `cis` opens it).
    init(configuration: DropBoxConfiguration = DropBoxConfiguration(hostname: "mx.test.example"), journaled: Bool = false) throws {
        self.directory = try TemporaryDirectory()
        self.queue = try SQLiteMessageQueue(path: self.directory.file("queue.sqlite"))
        self.store = try FileSystemObjectStore(
            directory: self.directory.file("objects"), checkpointInterval: 3600, notificationQueue: journaled ? self.queue : nil)
        self.dropBox = DropBox(
            objectStore: self.store, queue: self.queue, configuration: configuration,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    func onlyNotification() async throws -> [String: Any] {
        let messages = try await self.queue.receive(maxMessages: 10, visibilityTimeout: 30, waitTime: 0)
        try #require(messages.count == 1)
        return try #require(try JSONSerialization.jsonObject(with: Data(messages[0].body.utf8)) as? [String: Any])
    }
}

func envelope(
    helo: String = "client.example.org", esmtp: Bool = true, from: String = "organizer@example.com",
    to: [String] = ["create@example.net"], address: String = "192.0.2.10", tls: Bool = false, utf8: Bool = false
) -> SMTPEnvelope {
    SMTPEnvelope(
        heloName: helo, esmtp: esmtp, mailFrom: from, recipients: to, clientAddress: address, clientPort: 40001, tls: tls,
        smtpUTF8: utf8)
}

/// 2026-11-25T15:37:06.250Z
let fixedDate = Date(timeIntervalSince1970: 1_795_621_026.25)
let messageText = Array("From: organizer@example.com\r\nSubject: Meeting\r\n\r\nHello\r\n".utf8)

@Suite("DropBox")
struct DropBoxTests {
    @Test("deliver stores the message with one Received header and the envelope as metadata")
    func storedObject() async throws {
        let fixture = try DropBoxFixture()
        let receipt = try await fixture.dropBox.deliver(
            ReceivedMessage(envelope: envelope(tls: true), content: .memory(messageText), receivedAt: fixedDate))
        #expect(receipt.objectKey == "inbound/\(receipt.messageId)")
        #expect(receipt.messageId.wholeMatch(of: /[0-9a-hjkmnp-tv-z]{26}/) != nil)
        let object = try await fixture.store.get(key: receipt.objectKey)
        let expectedHeader =
            "Received: from client.example.org ([192.0.2.10])\r\n"
            + "\tby mx.test.example with ESMTPS id \(receipt.messageId)\r\n"
            + "\tfor <create@example.net>; Wed, 25 Nov 2026 15:37:06 +0000\r\n"
        #expect(String(decoding: object.bytes, as: UTF8.self) == expectedHeader + String(decoding: messageText, as: UTF8.self))
        #expect(
            object.metadata == [
                "message-id": receipt.messageId, "mail-from": "organizer@example.com", "recipients": "create@example.net",
                "client-address": "192.0.2.10", "client-port": "40001", "helo": "client.example.org", "protocol": "ESMTPS",
                "tls": "true", "received-at": "2026-11-25T15:37:06.250Z",
            ])
    }

    @Test(
        "the Received header names the protocol, the address literal and a single recipient",
        arguments: [
            (envelope(esmtp: false), "from client.example.org ([192.0.2.10])", "with SMTP", true),
            (envelope(tls: false), "([192.0.2.10])", "with ESMTP id", true),
            (envelope(tls: true, utf8: true), "([192.0.2.10])", "with UTF8SMTPS id", true),
            (envelope(utf8: true), "([192.0.2.10])", "with UTF8SMTP id", true),
            (envelope(address: "2001:db8::25"), "([IPv6:2001:db8::25])", "with ESMTP", true),
            (envelope(address: "::ffff:198.51.100.7"), "([198.51.100.7])", "with ESMTP", true),
            (envelope(to: ["a@example.net", "b@example.net"]), "([192.0.2.10])", "with ESMTP", false),
            (envelope(helo: "evil\r\nX-Injected: 1"), "from evil??X-Injected:?1 ([192.0.2.10])", "with ESMTP", true),
            (envelope(helo: "h\u{E4}st(a)<b>;c\\d\u{7F}"), "from h\u{E4}st?a??b??c?d? ([192.0.2.10])", "with ESMTP", true),
        ])
    func receivedHeaderVariants(envelope: SMTPEnvelope, from: String, with: String, hasFor: Bool) async throws {
        let fixture = try DropBoxFixture()
        let receipt = try await fixture.dropBox.deliver(
            ReceivedMessage(envelope: envelope, content: .memory(messageText), receivedAt: fixedDate))
        let text = String(decoding: try await fixture.store.get(key: receipt.objectKey).bytes, as: UTF8.self)
        let headerEnd = try #require(text.range(of: "\r\nFrom: "))
        let header = String(text[..<headerEnd.lowerBound])
        #expect(header.hasPrefix("Received: "))
        #expect(header.contains(from))
        #expect(header.contains(with))
        #expect(header.contains("\r\n\tfor <") == hasFor)
        #expect(header.hasSuffix("; Wed, 25 Nov 2026 15:37:06 +0000"))
        #expect(text.components(separatedBy: "Received:").count == 2)
        #expect(!header.contains("\r\nX-Injected"))
    }

    @Test("the notification is the S3 ObjectCreated:Put event, field by field")
    func s3Event() async throws {
        let fixture = try DropBoxFixture(
            configuration: DropBoxConfiguration(hostname: "mx", keyPrefix: "mail/in/", awsRegion: "eu-west-1", configurationId: "intake"))
        let receipt = try await fixture.dropBox.deliver(
            ReceivedMessage(envelope: envelope(), content: .memory(messageText), receivedAt: fixedDate))
        let object = try await fixture.store.get(key: receipt.objectKey)
        let event = try await fixture.onlyNotification()
        #expect(event.keys.sorted() == ["Records"])
        let records = try #require(event["Records"] as? [[String: Any]])
        #expect(records.count == 1)
        let record = records[0]
        #expect(
            Set(record.keys)
                == [
                    "eventVersion", "eventSource", "awsRegion", "eventTime", "eventName", "userIdentity", "requestParameters",
                    "responseElements", "s3",
                ])
        #expect(record["eventVersion"] as? String == "2.1")
        #expect(record["eventSource"] as? String == "aws:s3")
        #expect(record["awsRegion"] as? String == "eu-west-1")
        #expect(record["eventName"] as? String == "ObjectCreated:Put")
        #expect((record["eventTime"] as? String)?.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil)
        #expect(record["userIdentity"] as? [String: String] == ["principalId": "cis"])
        #expect(record["requestParameters"] as? [String: String] == ["sourceIPAddress": "192.0.2.10"])
        let response = try #require(record["responseElements"] as? [String: String])
        #expect(Set(response.keys) == ["x-amz-request-id", "x-amz-id-2"])
        #expect(response["x-amz-request-id"]?.wholeMatch(of: /[0-9A-F]{16}/) != nil)
        let s3 = try #require(record["s3"] as? [String: Any])
        #expect(Set(s3.keys) == ["s3SchemaVersion", "configurationId", "bucket", "object"])
        #expect(s3["s3SchemaVersion"] as? String == "1.0")
        #expect(s3["configurationId"] as? String == "intake")
        let bucket = try #require(s3["bucket"] as? [String: Any])
        #expect(bucket["name"] as? String == "cis-local")
        #expect(bucket["arn"] as? String == "arn:aws:s3:::cis-local")
        #expect(bucket["ownerIdentity"] as? [String: String] == ["principalId": "cis"])
        let objectInfo = try #require(s3["object"] as? [String: Any])
        #expect(Set(objectInfo.keys) == ["key", "size", "eTag", "sequencer"])
        #expect(objectInfo["key"] as? String == "mail/in/\(receipt.messageId)")
        #expect(objectInfo["size"] as? Int == object.bytes.count)
        #expect(objectInfo["eTag"] as? String == Digest.md5(object.bytes).hexString)
        #expect((objectInfo["sequencer"] as? String)?.wholeMatch(of: /[0-9A-F]{16,}/) != nil)
    }

    @Test("sequencers increase from one delivery to the next")
    func sequencersIncrease() async throws {
        let fixture = try DropBoxFixture()
        for _ in 0..<5 {
            _ = try await fixture.dropBox.deliver(ReceivedMessage(envelope: envelope(), content: .memory(messageText), receivedAt: Date()))
        }
        let messages = try await fixture.queue.receive(maxMessages: 10, visibilityTimeout: 30, waitTime: 0)
        let sequencers = try messages.map { message in
            let event = try #require(try JSONSerialization.jsonObject(with: Data(message.body.utf8)) as? [String: Any])
            let records = try #require(event["Records"] as? [[String: Any]])
            let s3 = try #require(records.first?["s3"] as? [String: Any])
            return try #require((s3["object"] as? [String: Any])?["sequencer"] as? String)
        }
        #expect(sequencers.count == 5)
        #expect(sequencers == sequencers.sorted { ($0.count, $0) < ($1.count, $1) })
        #expect(Set(sequencers).count == 5)
    }

    @Test(
        "object keys are URL-encoded the way S3 encodes them in notifications",
        arguments: [
            ("in box/", "in+box/"), ("a+b/", "a%2Bb/"), ("caf\u{e9}/", "caf%C3%A9/"), ("t~i-l_d.e/", "t~i-l_d.e/"),
            ("x!y/", "x%21y/"), ("q?&=/", "q%3F%26%3D/"), ("p%/", "p%25/"), ("\u{65e5}/", "%E6%97%A5/"), ("a*b'(c)/", "a%2Ab%27%28c%29/"),
        ])
    func keyEncoding(prefix: String, encodedPrefix: String) async throws {
        let fixture = try DropBoxFixture(configuration: DropBoxConfiguration(hostname: "mx", keyPrefix: prefix))
        let receipt = try await fixture.dropBox.deliver(
            ReceivedMessage(envelope: envelope(), content: .memory(messageText), receivedAt: fixedDate))
        #expect(receipt.objectKey == prefix + receipt.messageId)
        _ = try await fixture.store.get(key: receipt.objectKey)
        let event = try await fixture.onlyNotification()
        let records = try #require(event["Records"] as? [[String: Any]])
        let s3 = try #require(records.first?["s3"] as? [String: Any])
        #expect((s3["object"] as? [String: Any])?["key"] as? String == encodedPrefix + receipt.messageId)
    }

    @Test("a spooled message is streamed from its file after the Received header")
    func spooledContent() async throws {
        let fixture = try DropBoxFixture()
        let spoolPath = fixture.directory.file("spool.eml")
        var content = Array("Subject: big\r\n\r\n".utf8)
        while content.count < 3 * 1024 * 1024 { content += Array("line of a large calendar message body\r\n".utf8) }
        try Data(content).write(to: URL(fileURLWithPath: spoolPath))
        let receipt = try await fixture.dropBox.deliver(
            ReceivedMessage(envelope: envelope(), content: .spooled(path: spoolPath, size: content.count), receivedAt: fixedDate))
        let object = try await fixture.store.get(key: receipt.objectKey)
        #expect(object.bytes.count > content.count)
        #expect(Array(object.bytes.suffix(content.count)) == content)
        #expect(String(decoding: object.bytes.prefix(10), as: UTF8.self) == "Received: ")
        let event = try await fixture.onlyNotification()
        let records = try #require(event["Records"] as? [[String: Any]])
        let objectInfo = try #require((records.first?["s3"] as? [String: Any])?["object"] as? [String: Any])
        #expect(objectInfo["eTag"] as? String == Digest.md5(object.bytes).hexString)
        #expect(objectInfo["size"] as? Int == object.bytes.count)
    }

    @Test("with the SNS envelope the event is wrapped as SNS delivers it to SQS")
    func snsEnvelope() async throws {
        let topicArn = "arn:aws:sns:eu-central-1:123456789012:cis-intake"
        let fixture = try DropBoxFixture(configuration: DropBoxConfiguration(hostname: "mx", envelope: .sns(topicArn: topicArn)))
        let receipt = try await fixture.dropBox.deliver(
            ReceivedMessage(envelope: envelope(), content: .memory(messageText), receivedAt: fixedDate))
        let notification = try await fixture.onlyNotification()
        #expect(
            Set(notification.keys)
                == [
                    "Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp", "SignatureVersion", "Signature",
                    "SigningCertURL", "UnsubscribeURL",
                ])
        #expect(notification["Type"] as? String == "Notification")
        #expect(notification["TopicArn"] as? String == topicArn)
        #expect(notification["Subject"] as? String == "Amazon S3 Notification")
        #expect(notification["SignatureVersion"] as? String == "1")
        #expect((notification["MessageId"] as? String)?.count == 36)
        #expect((notification["Timestamp"] as? String)?.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil)
        #expect(
            (notification["UnsubscribeURL"] as? String)?.hasPrefix(
                "https://sns.eu-central-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=\(topicArn):") == true)
        let inner = try #require(notification["Message"] as? String)
        let event = try #require(try JSONSerialization.jsonObject(with: Data(inner.utf8)) as? [String: Any])
        let records = try #require(event["Records"] as? [[String: Any]])
        #expect(records.first?["eventName"] as? String == "ObjectCreated:Put")
        let objectInfo = try #require((records.first?["s3"] as? [String: Any])?["object"] as? [String: Any])
        #expect(objectInfo["key"] as? String == receipt.objectKey)
    }

    @Test("with a store that journals notifications, the notification is in the object's journal record and then in the queue")
    func journaledNotification() async throws {
        let fixture = try DropBoxFixture(journaled: true)
        #expect(fixture.store.journalsNotifications)
        let receipt = try await fixture.dropBox.deliver(
            ReceivedMessage(envelope: envelope(), content: .memory(messageText), receivedAt: fixedDate))
        let journal = try FileDescriptor.open(fixture.directory.file("objects/.meta/journal"), flags: O_RDONLY).readToEnd()
        #expect(journal.starts(with: Array("CISN".utf8)))
        var messages: [QueueMessage] = []
        let deadline = Date().addingTimeInterval(20)
        while messages.isEmpty && Date() < deadline {
            messages = try await fixture.queue.receive(maxMessages: 10, visibilityTimeout: 30, waitTime: 1)
        }
        try #require(messages.count == 1)
        #expect(messages[0].body.contains(receipt.messageId))
    }

    @Test("the Received date pads single digits")
    func receivedDatePadding() async throws {
        let fixture = try DropBoxFixture()
        // 2026-01-02T03:04:05Z
        _ = try await fixture.dropBox.deliver(
            ReceivedMessage(envelope: envelope(), content: .memory(messageText), receivedAt: Date(timeIntervalSince1970: 1_767_323_045)))
        let messages = try await fixture.queue.receive(maxMessages: 1, visibilityTimeout: 30, waitTime: 0)
        let key = try #require(messages.first.flatMap { body in
            (try? JSONSerialization.jsonObject(with: Data(body.body.utf8)) as? [String: Any])
                .flatMap { ($0["Records"] as? [[String: Any]])?.first?["s3"] as? [String: Any] }
                .flatMap { ($0["object"] as? [String: Any])?["key"] as? String }
        })
        let text = String(decoding: try await fixture.store.get(key: key).bytes, as: UTF8.self)
        #expect(text.contains("; Fri, 02 Jan 2026 03:04:05 +0000\r\n"))
    }

    @Test("when the queue fails, deliver throws and no notification exists")
    func queueFailure() async throws {
        let fixture = try DropBoxFixture()
        let queuePath = fixture.directory.file("queue.sqlite")
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: queuePath + suffix) }
        try FileManager.default.createDirectory(atPath: queuePath, withIntermediateDirectories: false)
        let error = await #expect(throws: DropBoxError.self) {
            _ = try await fixture.dropBox.deliver(ReceivedMessage(envelope: envelope(), content: .memory(messageText), receivedAt: fixedDate))
        }
        #expect(error?.stage == .sendNotification)
        try FileManager.default.removeItem(atPath: queuePath)
        let fresh = try SQLiteMessageQueue(path: queuePath)
        #expect(try await fresh.approximateCount == 0)
    }

    @Test("when the object store fails, deliver throws and nothing is queued")
    func objectStoreFailure() async throws {
        let fixture = try DropBoxFixture()
        let objects = fixture.directory.file("objects")
        try FileManager.default.removeItem(atPath: objects)
        _ = FileManager.default.createFile(atPath: objects, contents: Data("in the way".utf8))
        let error = await #expect(throws: DropBoxError.self) {
            _ = try await fixture.dropBox.deliver(ReceivedMessage(envelope: envelope(), content: .memory(messageText), receivedAt: fixedDate))
        }
        #expect(error?.stage == .storeObject)
        #expect(try await fixture.queue.approximateCount == 0)
    }

    @Test("message ids are unique and sort by time")
    func messageIds() async throws {
        let fixture = try DropBoxFixture()
        var ids: [String] = []
        for offset in 0..<50 {
            let receipt = try await fixture.dropBox.deliver(
                ReceivedMessage(
                    envelope: envelope(), content: .memory(messageText), receivedAt: fixedDate.addingTimeInterval(Double(offset))))
            ids.append(receipt.messageId)
        }
        #expect(Set(ids).count == ids.count)
        #expect(ids == ids.sorted())
    }

    @Test("configuration validation rejects prefixes that cannot start a key", arguments: ["/abs/", "../up/", "in/../x/", "a\nb/", ".hidden/", ".meta/", "a//", "./", "back\\slash/"])
    func invalidPrefix(prefix: String) {
        #expect(throws: DropBoxConfigurationError.self) { try DropBoxConfiguration(hostname: "mx", keyPrefix: prefix).validate() }
    }

    @Test("configuration validation accepts the defaults and plain prefixes", arguments: ["inbound/", "", "mail/in-", "a b/"])
    func validPrefix(prefix: String) throws {
        try DropBoxConfiguration(hostname: "mx.example", keyPrefix: prefix).validate()
    }
}
