/// Character classes of the RFC 5321 §4.1.2 grammar, on UTF-8 bytes.
enum ParserPrimitives {
    static let space = UInt8(ascii: " ")

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }

    /// `atext` (RFC 5322 §3.2.3), extended with any non-ASCII byte of a UTF-8 sequence (RFC 6531 §3.3).
    static func isAtext(_ byte: UInt8) -> Bool {
        if self.isAlphanumeric(byte) || byte >= 0x80 { return true }
        return "!#$%&'*+-/=?^_`{|}~".utf8.contains(byte)
    }

    /// A byte of a domain label: letter, digit, hyphen, or UTF-8 (an internationalised domain).
    static func isLabelByte(_ byte: UInt8) -> Bool {
        self.isAlphanumeric(byte) || byte == UInt8(ascii: "-") || byte >= 0x80
    }

    /// Space and the printable ASCII characters (`%d32-126`).
    static func isPrintableASCII(_ byte: UInt8) -> Bool {
        byte >= 0x20 && byte < 0x7F
    }

    /// A C0 control (other than TAB), DEL, or a C1 control (U+0080 to U+009F).
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        (scalar.value < 0x20 && scalar != "\t") || (scalar.value >= 0x7F && scalar.value <= 0x9F)
    }

    /// A printable ASCII byte other than space, or UTF-8.
    static func isVisible(_ byte: UInt8) -> Bool {
        (byte > 0x20 && byte < 0x7F) || byte >= 0x80
    }

    /// `Domain` (RFC 5321 §4.1.2): dot-separated labels that neither start nor end with a hyphen.
    static func isDomain(_ text: Substring) -> Bool {
        let labels = text.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard !labels.isEmpty else { return false }
        return labels.allSatisfy { label in
            guard let first = label.first, let last = label.last else { return false }
            return label.allSatisfy(self.isLabelByte) && first != UInt8(ascii: "-") && last != UInt8(ascii: "-")
        }
    }

    /// `address-literal` (RFC 5321 §4.1.3): `[...]` with visible characters inside, no brackets or backslashes.
    static func isAddressLiteral(_ text: Substring) -> Bool {
        guard text.count >= 3, text.first == "[", text.last == "]" else { return false }
        return text.dropFirst().dropLast().utf8.allSatisfy {
            $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "[") && $0 != UInt8(ascii: "]") && $0 != UInt8(ascii: "\\")
        }
    }

    /// `Dot-string` (RFC 5321 §4.1.2): atoms separated by single dots.
    static func isDotString(_ text: Substring) -> Bool {
        let atoms = text.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return !atoms.isEmpty && atoms.allSatisfy { !$0.isEmpty && $0.allSatisfy(self.isAtext) }
    }
}
