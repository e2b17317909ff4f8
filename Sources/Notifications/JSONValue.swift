/// A JSON value (RFC 8259) as `JSONValueReader` reads it: objects keep their members in the
/// order written, numbers keep their text.
public enum JSONValue: Sendable, Equatable {
    case object(JSONObject)
    case array([JSONValue])
    case string(String)
    /// The number as written, its grammar checked (RFC 8259 §6); read it with `integer`.
    case number(String)
    case bool(Bool)
    case null

    /// The number's value when it is a whole number that fits an `Int` (`1`, `-0`, `1.0`,
    /// `1e2`); nil for anything else.
    public var integer: Int? {
        guard case .number(let text) = self else { return nil }
        if let value = Int(text) { return value }
        guard let value = Double(text), value.rounded() == value, value >= -0x1p63, value < 0x1p63 else { return nil }
        return Int(value)
    }
}

/// A JSON object's members in the order written; no key appears twice (the reader refuses it).
public struct JSONObject: Sendable, Equatable {
    public struct Member: Sendable, Equatable {
        public var key: String
        public var value: JSONValue
    }

    public var members: [Member]

    public init(members: [Member] = []) {
        self.members = members
    }

    /// The member named `key`, nil when there is none (a member whose value is `null` is `.null`).
    public subscript(key: String) -> JSONValue? {
        for member in self.members where member.key == key { return member.value }
        return nil
    }
}
