/// A mailbox `local-part@domain` (RFC 5321 §4.1.2), as the client wrote it.
public struct Mailbox: Sendable, Hashable, CustomStringConvertible {
    /// A dot-string, or a quoted string with its quotes.
    public var localPart: String
    /// A domain name or an address literal in brackets.
    public var domain: String

    public init(localPart: String, domain: String) {
        self.localPart = localPart
        self.domain = domain
    }

    /// `local-part@domain`, without angle brackets.
    public var address: String { "\(self.localPart)@\(self.domain)" }

    /// Whether the address needs SMTPUTF8 (RFC 6531 §3.3).
    public var isASCII: Bool { self.address.utf8.allSatisfy { $0 < 0x80 } }

    public var description: String { self.address }
}

/// The MAIL FROM path: a mailbox, or `<>` for bounces (RFC 5321 §4.5.5).
public enum ReversePath: Sendable, Hashable {
    case null
    case mailbox(Mailbox)

    /// The address without angle brackets; empty for the null path.
    public var address: String {
        switch self {
        case .null: ""
        case .mailbox(let mailbox): mailbox.address
        }
    }
}

extension Mailbox {
    /// Parses `local-part@domain` without angle brackets (for configured addresses).
    public static func parse(_ text: String) throws(SMTPParserError) -> Mailbox {
        try PathParser.mailbox(text[...])
    }
}
