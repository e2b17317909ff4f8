/// Reads one JSON text (RFC 8259) from UTF-8 bytes into a `JSONValue`, strictly: no trailing
/// commas, no comments, no leading zeros, no control characters or lone surrogates in strings,
/// no key twice in one object (parsers disagree on which one wins), nothing but whitespace after
/// the value. A leading UTF-8 byte order mark is skipped, as Foundation's decoder does.
///
/// Nesting is bounded by `maximumDepth` (objects and arrays), so a hostile body cannot exhaust
/// the stack; everything else is bounded by the input's length.
public struct JSONValueReader {
    public static let defaultMaximumDepth = 64

    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public var reason: String
        /// The byte offset where reading stopped.
        public var offset: Int

        public var description: String { "\(self.reason) at byte \(self.offset)" }
    }

    public static func read(_ text: String, maximumDepth: Int = Self.defaultMaximumDepth) throws(Failure) -> JSONValue {
        var text = text
        let result: Result<JSONValue, Failure> = text.withUTF8 { bytes in
            Result { () throws(Failure) -> JSONValue in try Self.read(bytes, maximumDepth: maximumDepth) }
        }
        return try result.get()
    }

    public static func read(_ bytes: UnsafeBufferPointer<UInt8>, maximumDepth: Int = Self.defaultMaximumDepth) throws(Failure) -> JSONValue {
        var reader = JSONValueReader(bytes: bytes, maximumDepth: maximumDepth)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { reader.offset = 3 }
        let value = try reader.value(depth: 0)
        reader.skipWhitespace()
        guard reader.offset == bytes.count else { throw reader.failure("data after the JSON value") }
        return value
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private let maximumDepth: Int
    private var offset = 0

    private init(bytes: UnsafeBufferPointer<UInt8>, maximumDepth: Int) {
        self.bytes = bytes
        self.maximumDepth = maximumDepth
    }

    private func failure(_ reason: String) -> Failure {
        Failure(reason: reason, offset: self.offset)
    }

    private var current: UInt8? { self.offset < self.bytes.count ? self.bytes[self.offset] : nil }

    private mutating func skipWhitespace() {
        while let byte = self.current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 {
            self.offset += 1
        }
    }

    private mutating func value(depth: Int) throws(Failure) -> JSONValue {
        self.skipWhitespace()
        guard let byte = self.current else { throw self.failure("the text ends where a value should be") }
        switch byte {
        case UInt8(ascii: "{"): return .object(try self.object(depth: depth + 1))
        case UInt8(ascii: "["): return .array(try self.array(depth: depth + 1))
        case UInt8(ascii: "\""): return .string(try self.string())
        case UInt8(ascii: "t"): try self.literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try self.literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try self.literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try self.number())
        default: throw self.failure("not a JSON value")
        }
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let length = word.utf8CodeUnitCount
        guard self.bytes.count - self.offset >= length,
            UnsafeBufferPointer(rebasing: self.bytes[self.offset..<self.offset + length]).elementsEqual(
                UnsafeBufferPointer(start: word.utf8Start, count: length))
        else { throw self.failure("not a JSON value") }
        self.offset += length
    }

    private mutating func object(depth: Int) throws(Failure) -> JSONObject {
        guard depth <= self.maximumDepth else { throw self.failure("nested deeper than \(self.maximumDepth)") }
        self.offset += 1  // {
        var object = JSONObject()
        var keys: Set<String>?
        self.skipWhitespace()
        if self.current == UInt8(ascii: "}") {
            self.offset += 1
            return object
        }
        while true {
            self.skipWhitespace()
            guard self.current == UInt8(ascii: "\"") else { throw self.failure("an object member without a string key") }
            let keyOffset = self.offset
            let key = try self.string()
            // A linear search for the first few members, a set past them (a hostile object may have many).
            if object.members.count < 16 {
                if object.members.contains(where: { $0.key == key }) { throw Failure(reason: "the key appears twice", offset: keyOffset) }
            } else {
                if keys == nil { keys = Set(object.members.map(\.key)) }
                guard keys!.insert(key).inserted else { throw Failure(reason: "the key appears twice", offset: keyOffset) }
            }
            self.skipWhitespace()
            guard self.current == UInt8(ascii: ":") else { throw self.failure("no colon after an object key") }
            self.offset += 1
            object.members.append(JSONObject.Member(key: key, value: try self.value(depth: depth)))
            self.skipWhitespace()
            switch self.current {
            case UInt8(ascii: ","): self.offset += 1
            case UInt8(ascii: "}"): self.offset += 1; return object
            default: throw self.failure("neither a comma nor the end of the object")
            }
        }
    }

    private mutating func array(depth: Int) throws(Failure) -> [JSONValue] {
        guard depth <= self.maximumDepth else { throw self.failure("nested deeper than \(self.maximumDepth)") }
        self.offset += 1  // [
        var elements: [JSONValue] = []
        self.skipWhitespace()
        if self.current == UInt8(ascii: "]") {
            self.offset += 1
            return elements
        }
        while true {
            elements.append(try self.value(depth: depth))
            self.skipWhitespace()
            switch self.current {
            case UInt8(ascii: ","): self.offset += 1
            case UInt8(ascii: "]"): self.offset += 1; return elements
            default: throw self.failure("neither a comma nor the end of the array")
            }
        }
    }

    /// RFC 8259 §6: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    private mutating func number() throws(Failure) -> String {
        let start = self.offset
        if self.current == UInt8(ascii: "-") { self.offset += 1 }
        if self.current == UInt8(ascii: "0") {
            self.offset += 1
            if let byte = self.current, Self.isDigit(byte) { throw self.failure("a number with a leading zero") }
        } else {
            guard try self.digits() > 0 else { throw self.failure("a number without digits") }
        }
        if self.current == UInt8(ascii: ".") {
            self.offset += 1
            guard try self.digits() > 0 else { throw self.failure("a number without digits after its point") }
        }
        if self.current == UInt8(ascii: "e") || self.current == UInt8(ascii: "E") {
            self.offset += 1
            if self.current == UInt8(ascii: "+") || self.current == UInt8(ascii: "-") { self.offset += 1 }
            guard try self.digits() > 0 else { throw self.failure("a number without digits in its exponent") }
        }
        return String(decoding: UnsafeBufferPointer(rebasing: self.bytes[start..<self.offset]), as: UTF8.self)
    }

    private mutating func digits() throws(Failure) -> Int {
        let start = self.offset
        while let byte = self.current, Self.isDigit(byte) { self.offset += 1 }
        return self.offset - start
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    /// A string from its opening quote to past its closing quote, escapes decoded.
    private mutating func string() throws(Failure) -> String {
        self.offset += 1  // "
        let start = self.offset
        // The common case: no escape, copied as it is once its UTF-8 is checked.
        while let byte = self.current, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\"), byte >= 0x20 {
            self.offset += 1
        }
        if self.current == UInt8(ascii: "\"") {
            guard let text = String(validating: UnsafeBufferPointer(rebasing: self.bytes[start..<self.offset]), as: UTF8.self) else {
                throw self.failure("a string that is not UTF-8")
            }
            self.offset += 1
            return text
        }
        var decoded = Array(UnsafeBufferPointer(rebasing: self.bytes[start..<self.offset]))
        while true {
            guard let byte = self.current else { throw self.failure("the text ends inside a string") }
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = String(validating: decoded, as: UTF8.self) else { throw self.failure("a string that is not UTF-8") }
                self.offset += 1
                return text
            case UInt8(ascii: "\\"):
                self.offset += 1
                try self.escape(into: &decoded)
            case 0..<0x20:
                throw self.failure("a control character in a string")
            default:
                decoded.append(byte)
                self.offset += 1
            }
        }
    }

    /// The escape after a backslash (RFC 8259 §7).
    private mutating func escape(into decoded: inout [UInt8]) throws(Failure) {
        guard let byte = self.current else { throw self.failure("the text ends inside a string") }
        self.offset += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(byte)
        case UInt8(ascii: "b"): decoded.append(0x08)
        case UInt8(ascii: "f"): decoded.append(0x0C)
        case UInt8(ascii: "n"): decoded.append(0x0A)
        case UInt8(ascii: "r"): decoded.append(0x0D)
        case UInt8(ascii: "t"): decoded.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = UInt32(try self.hexQuad())
            if (0xD800...0xDBFF).contains(scalar) {
                guard self.bytes.count - self.offset >= 2, self.bytes[self.offset] == UInt8(ascii: "\\"),
                    self.bytes[self.offset + 1] == UInt8(ascii: "u")
                else { throw self.failure("a high surrogate without its low surrogate") }
                self.offset += 2
                let low = UInt32(try self.hexQuad())
                guard (0xDC00...0xDFFF).contains(low) else { throw self.failure("a high surrogate without its low surrogate") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw self.failure("a low surrogate without its high surrogate")
            }
            // Every value left is a Unicode scalar: surrogates are handled above.
            decoded.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
        default:
            throw self.failure("an unknown escape in a string")
        }
    }

    private mutating func hexQuad() throws(Failure) -> UInt16 {
        guard self.bytes.count - self.offset >= 4 else { throw self.failure("the text ends inside a \\u escape") }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let byte = self.bytes[self.offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw self.failure("a \\u escape with a non-hexadecimal digit")
            }
            value = value << 4 | UInt16(digit)
            self.offset += 1
        }
        return value
    }
}
