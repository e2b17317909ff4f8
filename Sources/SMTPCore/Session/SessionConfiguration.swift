/// What a session needs to know about the server: its name, what it accepts, and its limits.
public struct SessionConfiguration: Sendable {
    /// RFC 5321 §4.5.3.1.4: a command line is at most 512 octets including CRLF.
    public static let maximumCommandLineLength = 512
    public static let defaultMaximumMessageSize = 41_943_040
    public static let defaultMaximumRecipients = 50
    public static let defaultMaximumErrors = 10
    /// Postfix's `smtpd_junk_command_limit`.
    public static let defaultJunkCommandLimit = 100

    /// The name in the greeting, the EHLO reply and 421 replies.
    public var hostname: String
    public var recipientPolicy: RecipientPolicy
    /// The `SIZE` advertised in EHLO and enforced at MAIL and during DATA, in octets.
    public var maximumMessageSize: Int
    public var maximumRecipients: Int
    /// After this many failed commands (5xx replies to commands) the session is closed with 421.
    public var maximumErrors: Int
    /// NOOP, RSET, VRFY and HELP commands allowed per session before each one more counts as an error.
    public var junkCommandLimit: Int
    /// A certificate is configured: STARTTLS is advertised and accepted.
    public var tlsAvailable: Bool
    /// MAIL before STARTTLS is refused with 530 5.7.0.
    public var requireTLS: Bool

    public init(
        hostname: String,
        recipientPolicy: RecipientPolicy,
        maximumMessageSize: Int = Self.defaultMaximumMessageSize,
        maximumRecipients: Int = Self.defaultMaximumRecipients,
        maximumErrors: Int = Self.defaultMaximumErrors,
        junkCommandLimit: Int = Self.defaultJunkCommandLimit,
        tlsAvailable: Bool = false,
        requireTLS: Bool = false
    ) {
        self.hostname = hostname
        self.recipientPolicy = recipientPolicy
        self.maximumMessageSize = maximumMessageSize
        self.maximumRecipients = maximumRecipients
        self.maximumErrors = maximumErrors
        self.junkCommandLimit = junkCommandLimit
        self.tlsAvailable = tlsAvailable
        self.requireTLS = requireTLS
    }
}
