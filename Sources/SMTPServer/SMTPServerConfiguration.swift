import NIOCore
import NIOSSL
import SMTPCore

/// Everything the listener needs, with the documented defaults.
public struct SMTPServerConfiguration: Sendable {
    /// The address to bind; port 0 picks a free port (see `SMTPServer`'s `onServerRunning`).
    public var host: String
    public var port: Int
    /// Greeting, EHLO reply, 421 replies.
    public var hostname: String
    /// Accepted recipients (see `RecipientPolicy`).
    public var recipients: [String]
    /// Enables STARTTLS. Build it with `SMTPTLS.makeServerContext`.
    public var tlsContext: NIOSSLContext?
    /// MAIL before STARTTLS gets 530 5.7.0.
    public var requireTLS: Bool
    public var maximumMessageSize: Int
    public var maximumRecipients: Int
    /// Failed commands before a session is closed with 421.
    public var maximumErrors: Int
    /// Open connections in total; beyond, a new client gets 421 4.7.0 and is closed.
    public var maximumConnections: Int
    /// Open connections from one client address; beyond, 421 4.7.0 and close.
    public var maximumConnectionsPerAddress: Int
    /// Longest wait for the next command (and for the TLS handshake).
    public var commandTimeout: TimeAmount
    /// Longest wait for more message text during DATA.
    public var dataTimeout: TimeAmount
    /// Where message text over `spoolThreshold` octets is written while it arrives.
    public var spoolDirectory: String
    public var spoolThreshold: Int

    public static let defaultHost = "127.0.0.1"
    public static let defaultPort = 2525
    public static let defaultRecipients = ["create@localhost"]
    public static let defaultMaximumConnections = 1000
    public static let defaultMaximumConnectionsPerAddress = 20
    public static let defaultCommandTimeout = TimeAmount.seconds(300)
    public static let defaultDataTimeout = TimeAmount.seconds(600)
    /// After SIGTERM, how long a message in flight may take to finish.
    public static let defaultShutdownTimeout = TimeAmount.seconds(30)
    public static let defaultSpoolThreshold = 1 << 20

    public init(
        host: String = Self.defaultHost,
        port: Int = Self.defaultPort,
        hostname: String,
        recipients: [String] = Self.defaultRecipients,
        tlsContext: NIOSSLContext? = nil,
        requireTLS: Bool = false,
        maximumMessageSize: Int = SessionConfiguration.defaultMaximumMessageSize,
        maximumRecipients: Int = SessionConfiguration.defaultMaximumRecipients,
        maximumErrors: Int = SessionConfiguration.defaultMaximumErrors,
        maximumConnections: Int = Self.defaultMaximumConnections,
        maximumConnectionsPerAddress: Int = Self.defaultMaximumConnectionsPerAddress,
        commandTimeout: TimeAmount = Self.defaultCommandTimeout,
        dataTimeout: TimeAmount = Self.defaultDataTimeout,
        spoolDirectory: String,
        spoolThreshold: Int = Self.defaultSpoolThreshold
    ) {
        self.host = host
        self.port = port
        self.hostname = hostname
        self.recipients = recipients
        self.tlsContext = tlsContext
        self.requireTLS = requireTLS
        self.maximumMessageSize = maximumMessageSize
        self.maximumRecipients = maximumRecipients
        self.maximumErrors = maximumErrors
        self.maximumConnections = maximumConnections
        self.maximumConnectionsPerAddress = maximumConnectionsPerAddress
        self.commandTimeout = commandTimeout
        self.dataTimeout = dataTimeout
        self.spoolDirectory = spoolDirectory
        self.spoolThreshold = spoolThreshold
    }

    /// The per-session view of this configuration.
    public var session: SessionConfiguration {
        SessionConfiguration(
            hostname: self.hostname, recipientPolicy: RecipientPolicy(addresses: self.recipients),
            maximumMessageSize: self.maximumMessageSize, maximumRecipients: self.maximumRecipients,
            maximumErrors: self.maximumErrors, tlsAvailable: self.tlsContext != nil, requireTLS: self.requireTLS)
    }
}
