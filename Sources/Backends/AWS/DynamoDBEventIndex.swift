import AWS

/// `EventIndex` on the existing pipeline's DynamoDB table: an event is known when the item
/// `pk` = `sk` = `original_event#<UID>` exists. The pipeline writes that table itself, so
/// `recordCreated` does nothing.
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

    public func isKnown(uid: String) async throws -> Bool? {
        let key = Self.key(uid: uid)
        let item = try await mappingAWSErrors(backend: "dynamodb", operation: "GetItem") {
            try await self.dynamoDB.getItem(table: self.table, key: ["pk": .string(key), "sk": .string(key)], consistentRead: true)
        }
        return item != nil
    }

    public func recordCreated(uid: String) async throws {}
}
