import AWS
import Backends
import Digest
import FileIO
import Foundation
import Notifications
import TestSupport
import Testing

/// The AWS backends against moto_server (started by `make test`).
@Suite("AWS backends against moto")
struct AWSBackendsTests {
    @Test("S3ObjectStore: put with metadata and SSE, get, head; a missing key is notFound")
    func objectStoreRoundTrip() async throws {
        let moto = try MotoServer()
        let bucket = MotoServer.uniqueName("cis-objects")
        try await moto.createBucket(bucket)
        let store = S3ObjectStore(s3: try moto.services.s3(), bucket: bucket, serverSideEncryption: .aes256)
        let message = Array("Subject: test\r\n\r\nhello\r\n".utf8)
        // Only a space and unreserved characters: moto checks an S3 signature against the path as
        // werkzeug re-quotes it, not as sent, so it refuses keys with `+ = & é` even from boto3
        // (BotocoreSignerTests compares such a key's encoding and signature with botocore's).
        let key = "inbound/a b-c_d~e.eml"
        let stored = try await store.put(
            key: key, body: SegmentedBody(bytes: message),
            metadata: ["mail-from": "alice@example.com", "recipients": "create@example.com", "helo": "Zürich mail"])
        #expect(stored == StoredObject(key: key, size: message.count, eTag: Digest.md5(message).hexString))

        let fetched = try await store.get(key: key)
        #expect(fetched.bytes == message)
        #expect(fetched.metadata["mail-from"] == "alice@example.com")
        #expect(fetched.metadata["helo"] == "Zürich mail")

        let head = try await moto.services.s3().headObject(bucket: bucket, key: key)
        #expect(head.size == message.count)
        #expect(head.contentType == "message/rfc822")
        #expect(head.serverSideEncryption == "AES256")

        await #expect {
            try await store.get(key: "inbound/missing")
        } throws: { error in
            (error as? BackendError)?.kind == .notFound
        }
    }

    @Test("a 30 MB message is streamed from its spool file and stored intact")
    func largeObjectFromSpoolFile() async throws {
        let moto = try MotoServer()
        let bucket = MotoServer.uniqueName("cis-large")
        try await moto.createBucket(bucket)
        let directory = try TemporaryDirectory(prefix: "cis-spool")
        let spool = URL(fileURLWithPath: directory.file("message"))
        var content = [UInt8](repeating: 0, count: 30 * 1024 * 1024)
        for index in stride(from: 0, to: content.count, by: 4096) { content[index] = UInt8(truncatingIfNeeded: index / 4096) }
        try Data(content).write(to: spool)
        let header = Array("Received: from test\r\n".utf8)
        let store = S3ObjectStore(s3: try moto.services.s3(), bucket: bucket)
        let stored = try await store.put(
            key: "inbound/large", body: SegmentedBody(segments: [.bytes(header), .file(path: spool.path, offset: 0, length: content.count)]),
            metadata: [:])
        #expect(stored.size == header.count + content.count)
        let fetched = try await store.get(key: "inbound/large")
        #expect(fetched.bytes.count == header.count + content.count)
        #expect(Digest.sha256(fetched.bytes) == Digest.sha256(header + content))
    }

    @Test("SQSMessageQueue: send, receive with receive count, change visibility, delete")
    func queueRoundTrip() async throws {
        let moto = try MotoServer()
        let queueURL = try await moto.createQueue(MotoServer.uniqueName("cis-queue"))
        let queue = SQSMessageQueue(sqs: try moto.services.sqs(), queueURL: queueURL)
        let body = #"{"Records":[{"eventName":"ObjectCreated:Put"}]}"#
        let messageId = try await queue.send(body: body)

        let first = try await queue.receive(maxMessages: 10, visibilityTimeout: 30, waitTime: 1)
        #expect(first.count == 1)
        #expect(first.first?.messageId == messageId)
        #expect(first.first?.body == body)
        #expect(first.first?.receiveCount == 1)
        #expect(try await queue.receive(maxMessages: 10, visibilityTimeout: 30, waitTime: 0).isEmpty, "hidden while in flight")

        try await queue.changeVisibility(receiptHandle: try #require(first.first?.receiptHandle), visibilityTimeout: 0)
        let second = try await queue.receive(maxMessages: 1, visibilityTimeout: 30, waitTime: 1)
        #expect(second.first?.receiveCount == 2)

        try await queue.delete(receiptHandle: try #require(second.first?.receiptHandle))
        let started = ContinuousClock.now
        #expect(try await queue.receive(maxMessages: 10, visibilityTimeout: 30, waitTime: 1).isEmpty, "deleted for good")
        #expect(ContinuousClock.now - started >= .milliseconds(900), "long polling waits")
    }

    @Test("SQS receives up to 10 messages in one batch")
    func queueBatch() async throws {
        let moto = try MotoServer()
        let queue = SQSMessageQueue(sqs: try moto.services.sqs(), queueURL: try await moto.createQueue(MotoServer.uniqueName("cis-batch")))
        for index in 0..<12 { _ = try await queue.send(body: "message \(index)") }
        let batch = try await queue.receive(maxMessages: 10, visibilityTimeout: 30, waitTime: 1)
        #expect(batch.count == 10)
        #expect(Set(batch.map(\.body)).count == 10)
    }

    @Test("a missing queue is a rejected (not retryable) BackendError naming SQS")
    func missingQueue() async throws {
        let moto = try MotoServer()
        let queue = SQSMessageQueue(sqs: try moto.services.sqs(), queueURL: moto.endpoint + "/123456789012/no-such-queue")
        await #expect {
            try await queue.send(body: "x")
        } throws: { error in
            guard let error = error as? BackendError else { return false }
            return error.kind == .rejected && error.backend == "sqs" && error.message.contains("NonExistentQueue")
        }
    }

    @Test("SNSTopicPublisher publishes the JSON structure and attributes to the route's topic")
    func topicPublish() async throws {
        let moto = try MotoServer()
        let topicARN = try await moto.createTopic(MotoServer.uniqueName("cis-create"))
        let queueURL = try await moto.createQueue(MotoServer.uniqueName("cis-create-sub"))
        try await moto.subscribe(topicARN: topicARN, queueARN: try await moto.queueARN(queueURL))
        let publisher = SNSTopicPublisher(sns: try moto.services.sns(), topics: [.create: topicARN])
        let event = #"{"method":"REQUEST","uid":"r1","summary":"Planning & review <Q3>"}"#
        let messageId = try await publisher.publish(
            TopicMessage(defaultMessage: event, attributes: ["method": "REQUEST", "uid": "r1"], deduplicationId: "r1-0"), to: .create)
        #expect(!messageId.isEmpty)

        let delivered = try await SQSMessageQueue(sqs: try moto.services.sqs(), queueURL: queueURL)
            .receive(maxMessages: 1, visibilityTimeout: 30, waitTime: 2)
        let deliveredBody = try #require(delivered.first).body
        let envelope = try #require(try JSONSerialization.jsonObject(with: Data(deliveredBody.utf8)) as? [String: Any])
        #expect(envelope["Message"] as? String == event)
        #expect(envelope["TopicArn"] as? String == topicARN)
        #expect(envelope["MessageId"] as? String == messageId)
        let attributes = try #require(envelope["MessageAttributes"] as? [String: [String: String]])
        #expect(attributes["method"]?["Value"] == "REQUEST")
        #expect(attributes["uid"]?["Type"] == "String")

        await #expect {
            try await publisher.publish(TopicMessage(defaultMessage: "{}", attributes: [:], deduplicationId: "x"), to: .cancel)
        } throws: { error in
            (error as? BackendError)?.kind == .invalidArgument
        }
    }

    @Test("a FIFO topic gets the deduplication id and a group id")
    func fifoTopic() async throws {
        let moto = try MotoServer()
        let topicARN = try await moto.createTopic(
            MotoServer.uniqueName("cis-update") + ".fifo", attributes: ["FifoTopic": "true"])
        let publisher = SNSTopicPublisher(sns: try moto.services.sns(), topics: [.update: topicARN])
        let messageId = try await publisher.publish(
            TopicMessage(defaultMessage: "{}", attributes: ["method": "REQUEST", "uid": "u1"], deduplicationId: "u1-1"), to: .update)
        #expect(!messageId.isEmpty)
    }

    @Test("DynamoDBEventIndex: known when original_event#<UID> exists")
    func eventIndex() async throws {
        let moto = try MotoServer()
        let table = MotoServer.uniqueName("cis-events")
        try await moto.createEventTable(table)
        try await moto.putEventItem(table: table, key: "original_event#known-uid@example.com")
        let index = DynamoDBEventIndex(dynamoDB: try moto.services.dynamoDB(), table: table)
        #expect(try await index.isKnown(uid: "known-uid@example.com") == true)
        #expect(try await index.isKnown(uid: "new-uid@example.com") == false)
        try await index.recordCreated(uid: "new-uid@example.com")
        #expect(try await index.isKnown(uid: "new-uid@example.com") == false, "the pipeline owns the table")
        #expect(try await index.creatingDomain(uid: "new-uid@example.com") == nil)
        try await index.recordCreated(uid: "new-uid@example.com", creatingDomain: "example.com")
        try await index.recordCreated(uid: "new-uid@example.com", creatingDomain: "evil.example")
        #expect(try await index.creatingDomain(uid: "new-uid@example.com") == "example.com", "the first record stays")
        #expect(try await index.isKnown(uid: "new-uid@example.com") == false, "the creator's item is not the pipeline's")
    }

    @Test("an endpoint that is down entirely is unavailable, after bounded retries")
    func endpointDown() async throws {
        let port = try unusedLoopbackPort()
        let services = try MotoServer.services(
            endpoint: "http://127.0.0.1:\(port)", credentials: AWSCredentials(accessKeyId: "AKIDNOTSENT", secretAccessKey: "never-sent"))
        let started = ContinuousClock.now
        await #expect {
            try await SQSMessageQueue(sqs: try services.sqs(), queueURL: "http://127.0.0.1:\(port)/1/q").send(body: "x")
        } throws: { error in
            (error as? BackendError)?.kind == .unavailable && (error as? BackendError)?.isRetryable == true
        }
        #expect(ContinuousClock.now - started < .seconds(30), "bounded retries, not an endless loop")
    }
}
