import Foundation

/// Serializes a JSON object with sorted keys, so equal inputs give byte-equal output.
enum JSONText {
    /// A JSON value; `nil` becomes `null`.
    static func object(_ fields: [String: Any?]) -> [String: Any] {
        fields.mapValues { $0 ?? NSNull() }
    }

    static func serialize(_ fields: [String: Any?]) -> String {
        let options: JSONSerialization.WritingOptions = [.sortedKeys, .withoutEscapingSlashes]
        // Every value put in here is a String, Int, Bool, NSNull, array or dictionary of those,
        // so serialization cannot fail.
        guard let data = try? JSONSerialization.data(withJSONObject: Self.object(fields), options: options) else {
            preconditionFailure("event JSON holds only JSON-serializable values")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
