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
    /// NOOP, RSET, VRFY and HELP per session before each one more counts as an error.
    public var junkCommandLimit: Int
    /// Open connections in total; beyond, a new client gets 421 4.7.0 and is closed.
    public var maximumConnections: Int
    /// Open connections from one client network (see `clientIPv4Prefix`, `clientIPv6Prefix`);
    /// beyond, 421 4.7.0 and close.
    public var maximumConnectionsPerAddress: Int
    /// New connections per client network and minute (Postfix's
    /// `smtpd_client_connection_rate_limit`); beyond, 421 4.7.0 and close. 0 is no limit.
    public var maximumConnectionRate: Int
    /// The per-client limits count IPv4 addresses cut to this prefix length.
    public var clientIPv4Prefix: Int
    /// The per-client limits count IPv6 addresses cut to this prefix length.
    public var clientIPv6Prefix: Int
    /// Longest wait for the next command.
    public var commandTimeout: TimeAmount
    /// Longest wait for more message text during DATA.
    public var dataTimeout: TimeAmount
    /// Longest wait for the TLS handshake after STARTTLS's 220.
    public var tlsHandshakeTimeout: TimeAmount
    /// Longest a session may last, whatever it does; a message being stored is answered first.
    public var maximumSessionTime: TimeAmount
    /// After `minimumDataRateGrace`, message text must have averaged this many bytes per
    /// second since the 354 (Postfix's `smtpd_min_data_rate`); 0 turns the check off.
    public var minimumDataRate: Int
    public var minimumDataRateGrace: TimeAmount
    /// Reply bytes written and not yet taken by the client; past it the client is not
    /// reading its replies and the connection is closed. Reading stops well before, as
    /// soon as the socket is not writable.
    public var maximumPendingReplyBytes: Int
    /// How long the reply that ends a session may take to be written before the socket is closed anyway.
    public var closeTimeout: TimeAmount
    /// Seconds of silence before the first TCP keepalive probe on an accepted socket.
    public var tcpKeepaliveIdle: Int
    /// The PROXY protocol on the listener (behind haproxy or a network load balancer); nil: off.
    public var proxyProtocol: ProxyProtocolConfiguration?
    /// Where message text over `spoolThreshold` octets is written while it arrives.
    public var spoolDirectory: String
    public var spoolThreshold: Int

    public static let defaultHost = "127.0.0.1"
    public static let defaultPort = 2525
    public static let defaultRecipients = ["create@localhost"]
    public static let defaultMaximumConnections = 1000
    public static let defaultMaximumConnectionsPerAddress = 20
    /// Off, as Postfix's `smtpd_client_connection_rate_limit`: the concurrency limits hold
    /// by themselves, and a rate suited to one MX (the README suggests 60) is a local choice.
    public static let defaultMaximumConnectionRate = 0
    public static let defaultClientIPv4Prefix = 32
    public static let defaultClientIPv6Prefix = 64
    public static let defaultCommandTimeout = TimeAmount.seconds(300)
    public static let defaultDataTimeout = TimeAmount.seconds(600)
    public static let defaultTLSHandshakeTimeout = TimeAmount.seconds(10)
    public static let defaultMaximumSessionTime = TimeAmount.seconds(1800)
    /// Postfix's `smtpd_min_data_rate`.
    public static let defaultMinimumDataRate = 500
    public static let defaultMinimumDataRateGrace = TimeAmount.seconds(30)
    public static let defaultMaximumPendingReplyBytes = 65_536
    /// After a 421 that ends a session, how long its write may take before the socket is
    /// closed anyway (the client may not be reading). Also bounds the TLS close_notify wait.
    public static let defaultCloseTimeout = TimeAmount.seconds(2)
    /// TCP keepalive on accepted sockets: first probe after `tcpKeepaliveIdle` seconds
    /// without traffic, then every `keepaliveInterval`, giving up after `keepaliveProbes`
    /// unanswered probes.
    public static let defaultTCPKeepaliveIdle = 60
    public static let keepaliveInterval = TimeAmount.seconds(10)
    public static let keepaliveProbes = 6
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
        maximumConnectionRate: Int = Self.defaultMaximumConnectionRate,
        clientIPv4Prefix: Int = Self.defaultClientIPv4Prefix,
        clientIPv6Prefix: Int = Self.defaultClientIPv6Prefix,
        commandTimeout: TimeAmount = Self.defaultCommandTimeout,
        dataTimeout: TimeAmount = Self.defaultDataTimeout,
        tlsHandshakeTimeout: TimeAmount = Self.defaultTLSHandshakeTimeout,
        maximumSessionTime: TimeAmount = Self.defaultMaximumSessionTime,
        minimumDataRate: Int = Self.defaultMinimumDataRate,
        minimumDataRateGrace: TimeAmount = Self.defaultMinimumDataRateGrace,
        maximumPendingReplyBytes: Int = Self.defaultMaximumPendingReplyBytes,
        closeTimeout: TimeAmount = Self.defaultCloseTimeout,
        tcpKeepaliveIdle: Int = Self.defaultTCPKeepaliveIdle,
        junkCommandLimit: Int = SessionConfiguration.defaultJunkCommandLimit,
        proxyProtocol: ProxyProtocolConfiguration? = nil,
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
        self.maximumConnectionRate = maximumConnectionRate
        self.clientIPv4Prefix = clientIPv4Prefix
        self.clientIPv6Prefix = clientIPv6Prefix
        self.commandTimeout = commandTimeout
        self.dataTimeout = dataTimeout
        self.tlsHandshakeTimeout = tlsHandshakeTimeout
        self.maximumSessionTime = maximumSessionTime
        self.minimumDataRate = minimumDataRate
        self.minimumDataRateGrace = minimumDataRateGrace
        self.maximumPendingReplyBytes = maximumPendingReplyBytes
        self.closeTimeout = closeTimeout
        self.tcpKeepaliveIdle = tcpKeepaliveIdle
        self.junkCommandLimit = junkCommandLimit
        self.proxyProtocol = proxyProtocol
        self.spoolDirectory = spoolDirectory
        self.spoolThreshold = spoolThreshold
    }

    /// The per-session view of this configuration.
    public var session: SessionConfiguration {
        SessionConfiguration(
            hostname: self.hostname, recipientPolicy: RecipientPolicy(addresses: self.recipients),
            maximumMessageSize: self.maximumMessageSize, maximumRecipients: self.maximumRecipients,
            maximumErrors: self.maximumErrors, junkCommandLimit: self.junkCommandLimit, tlsAvailable: self.tlsContext != nil, requireTLS: self.requireTLS)
    }
}
