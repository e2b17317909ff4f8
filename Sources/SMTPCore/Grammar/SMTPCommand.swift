/// A client command (RFC 5321 §4.1.1 and the extensions the server advertises).
public enum SMTPCommand: Sendable, Hashable {
    /// `EHLO domain` (RFC 5321 §4.1.1.1): starts an ESMTP session.
    case ehlo(String)
    /// `HELO domain` (RFC 5321 §4.1.1.1): starts a session without extensions.
    case helo(String)
    /// `MAIL FROM:<reverse-path> [parameters]` (RFC 5321 §4.1.1.2; SIZE RFC 1870,
    /// BODY RFC 6152, SMTPUTF8 RFC 6531).
    case mail(ReversePath, MailParameters)
    /// `RCPT TO:<forward-path>` (RFC 5321 §4.1.1.3). No RCPT parameters are advertised.
    case rcpt(Mailbox)
    /// `DATA` (RFC 5321 §4.1.1.4).
    case data
    /// `RSET` (RFC 5321 §4.1.1.5).
    case rset
    /// `VRFY string` (RFC 5321 §4.1.1.6); answered 252, never a lookup.
    case vrfy(String)
    /// `HELP [string]` (RFC 5321 §4.1.1.8).
    case help(String?)
    /// `NOOP [string]` (RFC 5321 §4.1.1.9).
    case noop
    /// `QUIT` (RFC 5321 §4.1.1.10).
    case quit
    /// `STARTTLS` (RFC 3207 §4).
    case startTLS

    /// The verb as a client writes it, for logs.
    public var verb: String {
        switch self {
        case .ehlo: "EHLO"
        case .helo: "HELO"
        case .mail: "MAIL"
        case .rcpt: "RCPT"
        case .data: "DATA"
        case .rset: "RSET"
        case .vrfy: "VRFY"
        case .help: "HELP"
        case .noop: "NOOP"
        case .quit: "QUIT"
        case .startTLS: "STARTTLS"
        }
    }
}
