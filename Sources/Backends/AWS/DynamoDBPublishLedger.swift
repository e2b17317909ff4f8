import AWS
import Digest
import Foundation
import Notifications

/// `PublishLedger` in a DynamoDB table, shared by every consumer on the queue: a redelivery
/// to another host finds the publish the first host recorded.
///
/// One item per publish, `pk` = `sk` = `published#<request id>/<UID>/<SEQUENCE>/<route>` (`%` and
/// `/` inside the request id and UID percent-encoded; a key over DynamoDB's 1024-byte sort-key
/// limit becomes `published#sha256-<hex>`), so it never meets the event pipeline's
/// `original_event#<UID>` items when both share a table. Recorded with a conditional PutItem
/// (`attribute_not_exists(pk)`: a second record keeps the first), looked up with a strongly
/// consistent GetItem, and given a TTL attribute `expires_at` (epoch seconds) `retention`
/// after the publish; the table's TTL must name that attribute for old items to go.
public struct DynamoDBPublishLedger: PublishLedger {
    /// SQS keeps a message at most 14 days: after that no redelivery can ask for the record.
    public static let defaultRetentionDays = 14
    public static let retentionDaysRange = 1...365
    public static let keyPrefix = "published#"
    /// The table's TTL attribute.
    public static let expiryAttribute = "expires_at"
    /// DynamoDB's limit for a sort key (a partition key may have 2048): `pk` and `sk` hold the same key.
    public static let maximumKeyBytes = 1024

    public let dynamoDB: DynamoDBClient
    public let table: String
    public let retention: Duration
    private let now: @Sendable () -> Date

    public init(
        dynamoDB: DynamoDBClient, table: String, retention: Duration = .seconds(DynamoDBPublishLedger.defaultRetentionDays * 86_400),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.dynamoDB = dynamoDB
        self.table = table
        self.retention = retention
        self.now = now
    }

    /// The item key of a publish.
    public static func itemKey(_ key: PublishKey) -> String {
        let readable = "\(Self.escaped(key.requestId))/\(Self.escaped(key.uid))/\(key.sequence)/\(key.route.rawValue)"
        let full = Self.keyPrefix + readable
        if full.utf8.count <= Self.maximumKeyBytes { return full }
        return Self.keyPrefix + "sha256-" + Digest.sha256(readable).hexString
    }

    public func publishedMessageId(for key: PublishKey) async throws -> String? {
        let itemKey = Self.itemKey(key)
        let item = try await mappingAWSErrors(backend: "dynamodb-ledger", operation: "GetItem") {
            try await self.dynamoDB.getItem(table: self.table, key: ["pk": .string(itemKey), "sk": .string(itemKey)], consistentRead: true)
        }
        guard let item else { return nil }
        guard case .string(let messageId) = item["message_id"] else {
            throw BackendError(
                .rejected, backend: "dynamodb-ledger", operation: "GetItem",
                message: "the item \(itemKey) in \(self.table) has no message_id string: not written by cis")
        }
        return messageId
    }

    public func recordPublished(_ key: PublishKey, messageId: String) async throws {
        let itemKey = Self.itemKey(key)
        let publishedAt = Int(self.now().timeIntervalSince1970)
        var item: [String: DynamoDBClient.AttributeValue] = [
            "pk": .string(itemKey), "sk": .string(itemKey),
            "message_id": .string(messageId),
            "request_id": .string(key.requestId),
            "sequence": .number("\(key.sequence)"),
            "route": .string(key.route.rawValue),
            "published_at": .number("\(publishedAt)"),
            Self.expiryAttribute: .number("\(publishedAt + Int(self.retention.components.seconds))"),
        ]
        if !key.uid.isEmpty && key.uid.utf8.count <= Self.maximumKeyBytes { item["uid"] = .string(key.uid) }
        // Written already (a retry after a lost response, or another consumer): the first record stays.
        _ = try await mappingAWSErrors(backend: "dynamodb-ledger", operation: "PutItem") {
            try await self.dynamoDB.putItemIfAbsent(table: self.table, item: item, partitionKey: "pk")
        }
    }

    /// `%` and `/` percent-encoded, so that `/` separates the parts of a key unambiguously.
    private static func escaped(_ text: String) -> String {
        guard text.contains(where: { $0 == "%" || $0 == "/" }) else { return text }
        var result = ""
        for character in text {
            switch character {
            case "%": result += "%25"
            case "/": result += "%2F"
            default: result.append(character)
            }
        }
        return result
    }
}
