import Foundation

/// The one JSON form of every notification shape: keys sorted, slashes unescaped.
public enum NotificationJSON {
    public static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    public static func decode<Value: Decodable>(_ type: Value.Type, from text: String) throws -> Value {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }
}

extension KeyedDecodingContainer {
    /// A field that S3 or SNS always sends but that the consumer does not need: absent is
    /// the default, present with the wrong type is an error.
    func decode<Value: Decodable>(_ type: Value.Type, forKey key: Key, default defaultValue: Value) throws -> Value {
        try self.decodeIfPresent(type, forKey: key) ?? defaultValue
    }
}
