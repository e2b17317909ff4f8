/// Parses the `<path>` arguments of MAIL and RCPT (RFC 5321 §4.1.2).
enum PathParser {
    /// Splits `<path> params...` into the path's inside and the rest, after `FROM:` or `TO:`.
    static func splitPath(_ text: Substring) throws(SMTPParserError) -> (path: Substring, rest: Substring) {
        // Tolerate spaces between the colon and the path, as most servers do.
        let trimmed = text.drop { $0 == " " }
        guard trimmed.first == "<", let close = trimmed.firstIndex(of: ">") else {
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
                throw SMTPParserError(.syntax, "unterminated quoted local part")
            }
            localPart = path[..<end]
            afterLocalPart = path[end...]
            // qtextSMTP and quoted-pairSMTP are printable (§4.1.2): a CR would reach replies and metadata.
            guard localPart.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x7F }) else {
                throw SMTPParserError(.syntax, "control character in quoted local part")
            }
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

    /// The index just past the closing quote of a `Quoted-string` starting at `text`'s start.
    private static func endOfQuotedString(_ text: Substring) -> Substring.Index? {
        var index = text.index(after: text.startIndex)
        while index < text.endIndex {
            switch text[index] {
            case "\\":
                index = text.index(after: index)
                guard index < text.endIndex else { return nil }
            case "\"":
                return text.index(after: index)
            default:
                break
            }
            index = text.index(after: index)
        }
        return nil
    }
}
