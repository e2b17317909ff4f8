import Foundation

/// DynamoDB GetItem and PutItem (JSON 1.0, `X-Amz-Target: DynamoDB_20120810.<Operation>`).
public struct DynamoDBClient: Sendable {
    public let client: AWSServiceClient

    public init(client: AWSServiceClient) {
        self.client = client
    }

    /// An attribute value, as much as readers here need.
    public enum AttributeValue: Sendable, Equatable, Codable {
        case string(String)
        case number(String)
        case bool(Bool)
        case null
        /// Any other type (B, L, M, SS, …), kept as its type name.
        case other(String)

        private enum Key: String, CodingKey {
            case S, N, BOOL, NULL
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: AnyKey.self)
            guard let key = container.allKeys.first else { self = .null; return }
            switch key.stringValue {
            case "S": self = .string(try container.decode(String.self, forKey: key))
            case "N": self = .number(try container.decode(String.self, forKey: key))
            case "BOOL": self = .bool(try container.decode(Bool.self, forKey: key))
            case "NULL": self = .null
            default: self = .other(key.stringValue)
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            switch self {
            case .string(let value): try container.encode(value, forKey: .S)
            case .number(let value): try container.encode(value, forKey: .N)
            case .bool(let value): try container.encode(value, forKey: .BOOL)
            case .null, .other: try container.encode(true, forKey: .NULL)
            }
        }

        private struct AnyKey: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
    }

    /// The item with this key, or `nil` when there is none.
    public func getItem(table: String, key: [String: AttributeValue], consistentRead: Bool = false) async throws -> [String: AttributeValue]? {
        struct Request: Encodable {
            var TableName: String
            var Key: [String: AttributeValue]
            var ConsistentRead: Bool
        }
        struct Response: Decodable {
            var Item: [String: AttributeValue]?
        }
        let response: Response = try await AWSJSONProtocol.perform(
            client: self.client, target: "DynamoDB_20120810.GetItem", operation: "GetItem",
            request: Request(TableName: table, Key: key, ConsistentRead: consistentRead), timeout: nil)
        return response.Item
    }

    /// Writes the item unless an item with its key exists (`attribute_not_exists(<partitionKey>)`).
    /// Returns false when one existed (DynamoDB's ConditionalCheckFailedException).
    public func putItemIfAbsent(table: String, item: [String: AttributeValue], partitionKey: String) async throws -> Bool {
        struct Request: Encodable {
            var TableName: String
            var Item: [String: AttributeValue]
            var ConditionExpression: String
            var ExpressionAttributeNames: [String: String]
        }
        struct Response: Decodable {}
        do {
            let _: Response = try await AWSJSONProtocol.perform(
                client: self.client, target: "DynamoDB_20120810.PutItem", operation: "PutItem",
                request: Request(
                    TableName: table, Item: item, ConditionExpression: "attribute_not_exists(#pk)",
                    ExpressionAttributeNames: ["#pk": partitionKey]),
                timeout: nil)
            return true
        } catch let error as AWSError where error.code == "ConditionalCheckFailedException" {
            return false
        }
    }
}
