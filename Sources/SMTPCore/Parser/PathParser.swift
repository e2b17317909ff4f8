/// Parses the `<path>` arguments of MAIL and RCPT (RFC 5321 §4.1.2).
enum PathParser {
    private static let quote = UInt8(ascii: "\"")
    private static let backslash = UInt8(ascii: "\\")

    /// Splits `<path> params...` into the path's inside and the rest, after `FROM:` or `TO:`.
    /// A `>` inside a quoted local part does not end the path.
    static func splitPath(_ text: Substring) throws(SMTPParserError) -> (path: Substring, rest: Substring) {
        // Tolerate spaces between the colon and the path, as most servers do.
        let trimmed = text.drop { $0 == " " }
        guard trimmed.first == "<", let close = self.closingBracket(trimmed) else {
            throw SMTPParserError(.syntax, "address must be enclosed in <>")
        }
        let path = trimmed[trimmed.index(after: trimmed.startIndex)..<close]
        let rest = trimmed[trimmed.index(after: close)...]
        guard rest.isEmpty || rest.first == " " else {
            throw SMTPParserError(.syntax, "unexpected text after the address")
        }
        return (path, rest.drop { $0 == " " })
    }

    static func reversePath(_ path: Substring) throws(SMTPParserError) -> ReversePath {
        if path.isEmpty { return .null }
        return .mailbox(try self.mailbox(path))
    }

    /// A mailbox, with an obsolete source route (`@a,@b:`) dropped as §4.1.1.3 allows.
    static func mailbox(_ path: Substring) throws(SMTPParserError) -> Mailbox {
        var path = path
        if path.first == "@" {
            guard let colon = path.firstIndex(of: ":") else {
                throw SMTPParserError(.syntax, "malformed source route")
            }
            path = path[path.index(after: colon)...]
        }
        let localPart: Substring
        let afterLocalPart: Substring
        if path.first == "\"" {
            guard let end = self.endOfQuotedString(path) else {
                throw SMTPParserError(.syntax, "malformed quoted local part")
            }
            localPart = path[..<end]
            afterLocalPart = path[end...]
        } else {
            guard let at = path.lastIndex(of: "@") else {
                throw SMTPParserError(.syntax, "address has no domain")
            }
            localPart = path[..<at]
            afterLocalPart = path[at...]
            guard ParserPrimitives.isDotString(localPart) else {
                throw SMTPParserError(.syntax, "malformed local part")
            }
        }
        guard afterLocalPart.first == "@" else {
            throw SMTPParserError(.syntax, "address has no domain")
        }
        let domain = afterLocalPart.dropFirst()
        guard ParserPrimitives.isDomain(domain) || ParserPrimitives.isAddressLiteral(domain) else {
            throw SMTPParserError(.syntax, "malformed domain")
        }
        guard localPart.utf8.count <= 64, domain.utf8.count <= 255 else {
            throw SMTPParserError(.syntax, "address too long")
        }
        return Mailbox(localPart: String(localPart), domain: String(domain))
    }

    /// The index just past the closing quote of a `Quoted-string` starting at `text`'s start,
    /// or nil when it is unterminated or holds anything but `qtextSMTP` and `quoted-pairSMTP`
    /// (RFC 5321 §4.1.2: printable ASCII, a backslash only before printable ASCII; RFC 6531
    /// §3.3 adds UTF-8). No control character (CR, LF, NUL, TAB, DEL, C1) is ever allowed.
    static func endOfQuotedString(_ text: Substring) -> Substring.Index? {
        let bytes = text.utf8
        guard bytes.first == Self.quote else { return nil }
        var index = bytes.index(after: bytes.startIndex)
        while index < bytes.endIndex {
            let byte = bytes[index]
            switch byte {
            case Self.quote:
                return bytes.index(after: index)
            case Self.backslash:
                index = bytes.index(after: index)
                guard index < bytes.endIndex, ParserPrimitives.isPrintableASCII(bytes[index]) else { return nil }
            default:
                guard ParserPrimitives.isPrintableASCII(byte) || byte >= 0x80 else { return nil }
            }
            index = bytes.index(after: index)
        }
        return nil
    }

    /// The `>` that ends a path starting with `<` (skipping any quoted string inside it).
    private static func closingBracket(_ text: Substring) -> Substring.Index? {
        var index = text.index(after: text.startIndex)
        while index < text.endIndex {
            switch text[index] {
            case ">":
                return index
            case "\"":
                guard let end = self.endOfQuotedString(text[index...]) else { return nil }
                index = end
                continue
            default:
                break
            }
            index = text.index(after: index)
        }
        return nil
    }
}
