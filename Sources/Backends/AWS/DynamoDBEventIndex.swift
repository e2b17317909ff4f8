import AWS

/// `EventIndex` on the existing pipeline's DynamoDB table: an event is known when the item
/// `pk` = `sk` = `original_event#<UID>` exists. The pipeline writes those items itself; the
/// consumer writes only the creating domain, as its own item `pk` = `sk` = `cis_creating_domain#<UID>`
/// with the attribute `creating_domain` (PutItem, first record wins).
public struct DynamoDBEventIndex: EventIndex {
    public let dynamoDB: DynamoDBClient
    public let table: String

    public init(dynamoDB: DynamoDBClient, table: String) {
        self.dynamoDB = dynamoDB
        self.table = table
    }

    public static func key(uid: String) -> String {
        "original_event#\(uid)"
    }

    public static func creatingDomainKey(uid: String) -> String {
        "cis_creating_domain#\(uid)"
    }

    public func isKnown(uid: String) async throws -> Bool? {
        let key = Self.key(uid: uid)
        let item = try await mappingAWSErrors(backend: "dynamodb", operation: "GetItem") {
            try await self.dynamoDB.getItem(table: self.table, key: ["pk": .string(key), "sk": .string(key)], consistentRead: true)
        }
        return item != nil
    }

    public func recordCreated(uid: String, creatingDomain: String?) async throws {
        guard let creatingDomain else { return }
        let key = Self.creatingDomainKey(uid: uid)
        _ = try await mappingAWSErrors(backend: "dynamodb", operation: "PutItem") {
            try await self.dynamoDB.putItemIfAbsent(
                table: self.table,
                item: ["pk": .string(key), "sk": .string(key), "creating_domain": .string(creatingDomain)], partitionKey: "pk")
        }
    }

    public func creatingDomain(uid: String) async throws -> String? {
        let key = Self.creatingDomainKey(uid: uid)
        let item = try await mappingAWSErrors(backend: "dynamodb", operation: "GetItem") {
            try await self.dynamoDB.getItem(table: self.table, key: ["pk": .string(key), "sk": .string(key)], consistentRead: true)
        }
        guard case .string(let domain) = item?["creating_domain"] else { return nil }
        return domain
    }
}
