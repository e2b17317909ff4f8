import AWS
import Backends
import Foundation
import Notifications
import Testing

/// The DynamoDB publish ledger against moto (started by `make test`, verifying signatures).
@Suite("DynamoDB publish ledger against moto")
struct DynamoDBPublishLedgerTests {
    static let key = PublishKey(requestId: "01m8shevvha16kab020kt0g1hp", uid: "event-1@example.com", sequence: 2, route: .update)

    @Test("item keys: the published# prefix, unambiguous parts, hashed only past 1024 bytes")
    func itemKeys() {
        #expect(DynamoDBPublishLedger.itemKey(Self.key) == "published#01m8shevvha16kab020kt0g1hp/event-1@example.com/2/update")
        let failure = PublishKey(requestId: "r", uid: "", sequence: -1, route: .failure)
        #expect(DynamoDBPublishLedger.itemKey(failure) == "published#r//-1/failure")
        // A `/` inside a part cannot make two publishes one key.
        let slashInRequest = PublishKey(requestId: "a/b", uid: "c", sequence: 0, route: .create)
        let slashInUID = PublishKey(requestId: "a", uid: "b/c", sequence: 0, route: .create)
        #expect(DynamoDBPublishLedger.itemKey(slashInRequest) != DynamoDBPublishLedger.itemKey(slashInUID))
        #expect(DynamoDBPublishLedger.itemKey(slashInRequest) == "published#a%2Fb/c/0/create")
        #expect(DynamoDBPublishLedger.itemKey(PublishKey(requestId: "a%2Fb", uid: "c", sequence: 0, route: .create))
            == "published#a%252Fb/c/0/create")

        let longUID = String(repeating: "x", count: 1_000) + "@example.com"
        let long = DynamoDBPublishLedger.itemKey(PublishKey(requestId: "r", uid: longUID, sequence: 0, route: .create))
        #expect(long.hasPrefix("published#sha256-") && long.utf8.count == "published#sha256-".utf8.count + 64)
        let otherLong = DynamoDBPublishLedger.itemKey(PublishKey(requestId: "r", uid: longUID, sequence: 1, route: .create))
        #expect(long != otherLong)
        #expect(!DynamoDBPublishLedger.itemKey(Self.key).hasPrefix(DynamoDBEventIndex.key(uid: "")))
    }

    @Test("record, then look up: the message id; another sequence, route or request is not published")
    func recordAndLookUp() async throws {
        let (moto, table) = try await Self.table()
        let ledger = DynamoDBPublishLedger(dynamoDB: try moto.services.dynamoDB(), table: table)
        #expect(try await ledger.publishedMessageId(for: Self.key) == nil)
        try await ledger.recordPublished(Self.key, messageId: "sns-message-1")
        #expect(try await ledger.publishedMessageId(for: Self.key) == "sns-message-1")

        var other = Self.key
        other.sequence = 3
        #expect(try await ledger.publishedMessageId(for: other) == nil)
        other = Self.key
        other.route = .create
        #expect(try await ledger.publishedMessageId(for: other) == nil)
        other = Self.key
        other.requestId = "01m8shevvha16kab020kt0g1hq"
        #expect(try await ledger.publishedMessageId(for: other) == nil)

        let failure = PublishKey(requestId: "01m8shevvha16kab020kt0g1hp", uid: "", sequence: -1, route: .failure)
        #expect(try await ledger.publishedMessageId(for: failure) == nil)
        try await ledger.recordPublished(failure, messageId: "failure-notice")
        #expect(try await ledger.publishedMessageId(for: failure) == "failure-notice")
    }

    @Test("recording a publish twice keeps the first message id")
    func recordTwiceKeepsTheFirst() async throws {
        let (moto, table) = try await Self.table()
        let ledger = DynamoDBPublishLedger(dynamoDB: try moto.services.dynamoDB(), table: table)
        try await ledger.recordPublished(Self.key, messageId: "first")
        try await ledger.recordPublished(Self.key, messageId: "second")
        #expect(try await ledger.publishedMessageId(for: Self.key) == "first")
    }

    @Test("two consumers with their own clients share the records")
    func twoConsumersShareTheLedger() async throws {
        let (moto, table) = try await Self.table()
        let first = DynamoDBPublishLedger(dynamoDB: try moto.services.dynamoDB(), table: table)
        let second = DynamoDBPublishLedger(
            dynamoDB: try MotoServer.services(endpoint: moto.endpoint, credentials: moto.credentials).dynamoDB(), table: table)
        #expect(try await second.publishedMessageId(for: Self.key) == nil)
        try await first.recordPublished(Self.key, messageId: "from-host-a")
        #expect(try await second.publishedMessageId(for: Self.key) == "from-host-a")
        try await second.recordPublished(Self.key, messageId: "from-host-b")
        #expect(try await first.publishedMessageId(for: Self.key) == "from-host-a")
    }

    @Test("the item carries the TTL attribute: published_at plus the retention, in epoch seconds")
    func expiryAttribute() async throws {
        let (moto, table) = try await Self.table()
        let now = Date(timeIntervalSince1970: 1_796_000_000)
        let ledger = DynamoDBPublishLedger(
            dynamoDB: try moto.services.dynamoDB(), table: table, retention: .seconds(3 * 86_400), now: { now })
        try await ledger.recordPublished(Self.key, messageId: "m")
        let itemKey = DynamoDBPublishLedger.itemKey(Self.key)
        let item = try #require(
            try await moto.services.dynamoDB().getItem(table: table, key: ["pk": .string(itemKey), "sk": .string(itemKey)], consistentRead: true))
        #expect(item[DynamoDBPublishLedger.expiryAttribute] == .number("\(1_796_000_000 + 3 * 86_400)"))
        #expect(item["published_at"] == .number("1796000000"))
        #expect(item["request_id"] == .string(Self.key.requestId))
        #expect(item["uid"] == .string(Self.key.uid))
        #expect(item["sequence"] == .number("2"))
        #expect(item["route"] == .string("update"))
        #expect(DynamoDBPublishLedger.defaultRetentionDays == 14)
    }

    @Test("a UID too long for a DynamoDB key is recorded under its hash")
    func longUID() async throws {
        let (moto, table) = try await Self.table()
        let ledger = DynamoDBPublishLedger(dynamoDB: try moto.services.dynamoDB(), table: table)
        let key = PublishKey(requestId: "r", uid: String(repeating: "u", count: 3_000) + "@example.com", sequence: 0, route: .create)
        #expect(try await ledger.publishedMessageId(for: key) == nil)
        try await ledger.recordPublished(key, messageId: "long")
        #expect(try await ledger.publishedMessageId(for: key) == "long")
    }

    @Test("in the pipeline's own table: ledger items and original_event items do not meet")
    func sharesThePipelineTable() async throws {
        let (moto, table) = try await Self.table()
        let dynamoDB = try moto.services.dynamoDB()
        let ledger = DynamoDBPublishLedger(dynamoDB: dynamoDB, table: table)
        let index = DynamoDBEventIndex(dynamoDB: dynamoDB, table: table)
        let key = PublishKey(requestId: "r", uid: "shared@example.com", sequence: 0, route: .create)
        try await ledger.recordPublished(key, messageId: "m")
        #expect(try await index.isKnown(uid: "shared@example.com") == false)
        try await moto.putEventItem(table: table, key: DynamoDBEventIndex.key(uid: "other@example.com"))
        #expect(try await ledger.publishedMessageId(for: PublishKey(requestId: "r", uid: "other@example.com", sequence: 0, route: .create)) == nil)
        #expect(try await ledger.publishedMessageId(for: key) == "m")
    }

    @Test("a missing table is a rejected request, named in the error")
    func missingTable() async throws {
        let moto = try MotoServer()
        let ledger = DynamoDBPublishLedger(dynamoDB: try moto.services.dynamoDB(), table: MotoServer.uniqueName("cis-no-such-table"))
        await #expect {
            try await ledger.publishedMessageId(for: Self.key)
        } throws: { error in
            guard let error = error as? BackendError else { return false }
            return error.backend == "dynamodb-ledger" && error.message.contains("ResourceNotFoundException")
        }
    }

    private static func table() async throws -> (MotoServer, String) {
        let moto = try MotoServer()
        let table = MotoServer.uniqueName("cis-ledger")
        try await moto.createEventTable(table)
        return (moto, table)
    }
}
