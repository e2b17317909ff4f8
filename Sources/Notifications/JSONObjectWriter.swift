#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes one JSON object (RFC 8259) straight into UTF-8 bytes, its members in the order they
/// are written: no dictionary, no sorting, no Foundation.
///
/// Strings are escaped as RFC 8259 §7 requires (`"`, `\` and every control character below
/// U+0020; `\b`, `\f`, `\n`, `\r`, `\t` by name, the others as `\u00XX`); everything else,
/// `/` and non-ASCII included, is copied as UTF-8. A Swift `String` holds only Unicode scalars,
/// so no lone surrogate can reach the output.
///
///     var writer = JSONObjectWriter()
///     writer.field("uid", request.requestId)
///     writer.field("attendees", array: attendees) { writer, attendee in writer.field("email", attendee.email) }
///     let text = writer.finish()
public struct JSONObjectWriter: Sendable {
    private var bytes: [UInt8]
    /// Whether the object being written has a member already (a comma goes before the next one).
    private var hasMember = false

    public init(reservingCapacity capacity: Int = 512) {
        self.bytes = []
        self.bytes.reserveCapacity(capacity)
        self.bytes.append(UInt8(ascii: "{"))
    }

    /// A string member; `nil` writes `null`.
    public mutating func field(_ key: String, _ value: String?) {
        self.key(key)
        if let value { self.string(value) } else { self.null() }
    }

    public mutating func field(_ key: String, _ value: Int) {
        self.key(key)
        self.bytes.append(contentsOf: String(value).utf8)
    }

    public mutating func field(_ key: String, _ value: Bool) {
        self.key(key)
        self.bytes.append(contentsOf: value ? Self.trueBytes : Self.falseBytes)
    }

    /// An object member whose members `body` writes.
    public mutating func field(_ key: String, object body: (inout JSONObjectWriter) -> Void) {
        self.key(key)
        self.nested(body)
    }

    /// An array member with one object per element, whose members `body` writes.
    public mutating func field<Elements: Sequence>(
        _ key: String, array elements: Elements, _ body: (inout JSONObjectWriter, Elements.Element) -> Void
    ) {
        self.key(key)
        self.array(elements) { writer, element in writer.nested { body(&$0, element) } }
    }

    /// An array member of strings.
    public mutating func field(_ key: String, strings elements: some Sequence<String>) {
        self.key(key)
        self.array(elements) { $0.string($1) }
    }

    /// The object's text; the writer is not used after this.
    public consuming func finish() -> String {
        self.bytes.append(UInt8(ascii: "}"))
        return String(decoding: self.bytes, as: UTF8.self)
    }

    /// The object's UTF-8 bytes followed by `terminator` (a newline for a JSON line, say).
    public consuming func finishBytes(appending terminator: UInt8? = nil) -> [UInt8] {
        self.bytes.append(UInt8(ascii: "}"))
        if let terminator { self.bytes.append(terminator) }
        return self.bytes
    }

    // MARK: - Writing

    private mutating func array<Elements: Sequence>(_ elements: Elements, _ write: (inout JSONObjectWriter, Elements.Element) -> Void) {
        self.bytes.append(UInt8(ascii: "["))
        var first = true
        for element in elements {
            if !first { self.bytes.append(UInt8(ascii: ",")) }
            first = false
            write(&self, element)
        }
        self.bytes.append(UInt8(ascii: "]"))
    }

    private mutating func nested(_ body: (inout JSONObjectWriter) -> Void) {
        let outerHasMember = self.hasMember
        self.hasMember = false
        self.bytes.append(UInt8(ascii: "{"))
        body(&self)
        self.bytes.append(UInt8(ascii: "}"))
        self.hasMember = outerHasMember
    }

    private mutating func key(_ key: String) {
        if self.hasMember { self.bytes.append(UInt8(ascii: ",")) }
        self.hasMember = true
        self.string(key)
        self.bytes.append(UInt8(ascii: ":"))
    }

    private mutating func null() {
        self.bytes.append(contentsOf: Self.nullBytes)
    }

    /// A JSON string literal. Bytes of multi-byte UTF-8 sequences are all 0x80 or above, so
    /// escaping byte by byte never splits a character. The runs between bytes to escape are
    /// found by `strcspn` and copied whole (an embedded NUL ends a run: it is escaped too).
    private mutating func string(_ value: String) {
        self.bytes.append(UInt8(ascii: "\""))
        let count = value.utf8.count
        value.withCString { base in
            Self.escapedCharacters.withUnsafeBufferPointer { reject in
                var offset = 0
                while offset < count {
                    let run = strcspn(base + offset, reject.baseAddress!)
                    if run > 0 {
                        self.bytes.append(contentsOf: UnsafeRawBufferPointer(start: base + offset, count: run))
                        offset += run
                    }
                    if offset < count {
                        self.escape(UInt8(bitPattern: base[offset]))
                        offset += 1
                    }
                }
            }
        }
        self.bytes.append(UInt8(ascii: "\""))
    }

    /// Every byte `string` must escape but NUL, as a C string for `strcspn`.
    private static let escapedCharacters: [CChar] =
        (0x01..<0x20).map { CChar($0) } + [CChar(UInt8(ascii: "\"")), CChar(UInt8(ascii: "\\")), 0]

    private mutating func escape(_ byte: UInt8) {
        self.bytes.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): self.bytes.append(byte)
        case 0x08: self.bytes.append(UInt8(ascii: "b"))
        case 0x0C: self.bytes.append(UInt8(ascii: "f"))
        case 0x0A: self.bytes.append(UInt8(ascii: "n"))
        case 0x0D: self.bytes.append(UInt8(ascii: "r"))
        case 0x09: self.bytes.append(UInt8(ascii: "t"))
        default:
            self.bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
            self.bytes.append(Self.hexDigits[Int(byte >> 4)])
            self.bytes.append(Self.hexDigits[Int(byte & 0x0F)])
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
    private static let trueBytes = Array("true".utf8)
    private static let falseBytes = Array("false".utf8)
    private static let nullBytes = Array("null".utf8)
}
