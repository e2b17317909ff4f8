/// Why a command line could not be turned into an `SMTPCommand`. Each kind maps to one
/// reply: see `SMTPReply.commandRejected(_:)`.
public struct SMTPParserError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The verb is not one the server implements (500 5.5.1).
        case unknownCommand
        /// The verb is known but its arguments are malformed (501 5.5.4).
        case syntax
        /// A MAIL or RCPT parameter the server does not implement (555 5.5.4).
        case unsupportedParameter
        /// The command line is longer than 512 octets with its CRLF (500 5.5.2).
        case lineTooLong
    }

    public var kind: Kind
    /// What was wrong, safe to send back to the client: it never echoes the line itself.
    public var reason: String

    public init(_ kind: Kind, _ reason: String) {
        self.kind = kind
        self.reason = reason
    }

    public static let lineTooLong = SMTPParserError(.lineTooLong, "line too long")

    public var description: String { "\(self.kind): \(self.reason)" }
}
