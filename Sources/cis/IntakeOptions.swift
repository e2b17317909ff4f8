import ArgumentParser
import Foundation
import NIOCore
import NIOSSL
import SMTPCore
import SMTPServer

/// The SMTP listener's options, shared by `cis serve` and `cis smtp`. Every option also
/// reads an environment variable when the flag is absent.
struct IntakeOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Address to listen on. Env: CIS_LISTEN. Default: \(SMTPServerConfiguration.defaultHost):\(SMTPServerConfiguration.defaultPort).",
        valueName: "host:port"))
    var listen: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Name in the greeting and the Received header. Env: CIS_HOSTNAME. Default: the machine's host name.",
        valueName: "name"))
    var hostname: String?

    @Option(
        name: .customLong("recipient"),
        parsing: .unconditionalSingleValue,
        help: ArgumentHelp(
            "An accepted recipient address; repeat for more. Env: CIS_RECIPIENTS (comma-separated). Default: \(SMTPServerConfiguration.defaultRecipients.joined(separator: ",")).",
            valueName: "address"))
    var recipients: [String] = []

    @Option(name: .customLong("tls-cert"), parsing: .unconditional, help: ArgumentHelp(
        "PEM certificate chain; with --tls-key enables STARTTLS. Env: CIS_TLS_CERT.", valueName: "path"))
    var tlsCertificate: String?

    @Option(name: .customLong("tls-key"), parsing: .unconditional, help: ArgumentHelp("PEM private key for --tls-cert. Env: CIS_TLS_KEY.", valueName: "path"))
    var tlsKey: String?

    @Flag(name: .customLong("require-tls"), inversion: .prefixedNo, help: ArgumentHelp(
        "Refuse MAIL before STARTTLS (530 5.7.0). Env: CIS_REQUIRE_TLS (true/false). Default: off."))
    var requireTLS: Bool?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Largest accepted message in bytes (advertised as SIZE). Env: CIS_MAX_MESSAGE_SIZE. Default: \(SessionConfiguration.defaultMaximumMessageSize).",
        valueName: "bytes"))
    var maxMessageSize: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Recipients per message. Env: CIS_MAX_RECIPIENTS. Default: \(SessionConfiguration.defaultMaximumRecipients).", valueName: "n"))
    var maxRecipients: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Open connections in total. Env: CIS_MAX_CONNECTIONS. Default: \(SMTPServerConfiguration.defaultMaximumConnections).",
        valueName: "n"))
    var maxConnections: String?

    @Option(
        name: .customLong("max-connections-per-ip"),
        parsing: .unconditional,
        help: ArgumentHelp(
            "Open connections per client address. Env: CIS_MAX_CONNECTIONS_PER_IP. Default: \(SMTPServerConfiguration.defaultMaximumConnectionsPerAddress).",
            valueName: "n"))
    var maxConnectionsPerIP: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "New connections per client network and minute, 0 for no limit. Env: CIS_MAX_CONNECTION_RATE. Default: \(SMTPServerConfiguration.defaultMaximumConnectionRate).",
        valueName: "n"))
    var maxConnectionRate: String?

    @Option(name: .customLong("client-ipv4-prefix"), parsing: .unconditional, help: ArgumentHelp(
        "Per-client limits count IPv4 addresses by this prefix length (1-32). Env: CIS_CLIENT_IPV4_PREFIX. Default: \(SMTPServerConfiguration.defaultClientIPv4Prefix).",
        valueName: "bits"))
    var clientIPv4Prefix: String?

    @Option(name: .customLong("client-ipv6-prefix"), parsing: .unconditional, help: ArgumentHelp(
        "Per-client limits count IPv6 addresses by this prefix length (1-128). Env: CIS_CLIENT_IPV6_PREFIX. Default: \(SMTPServerConfiguration.defaultClientIPv6Prefix).",
        valueName: "bits"))
    var clientIPv6Prefix: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "NOOP, RSET, VRFY and HELP commands per session before each one more counts as an error. Env: CIS_JUNK_COMMAND_LIMIT. Default: \(SessionConfiguration.defaultJunkCommandLimit).",
        valueName: "n"))
    var junkCommandLimit: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Reply bytes a client may leave unread before it is disconnected (at least 4096). Env: CIS_MAX_PENDING_REPLY_BYTES. Default: \(SMTPServerConfiguration.defaultMaximumPendingReplyBytes).",
        valueName: "bytes"))
    var maxPendingReplyBytes: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Longest wait for a command, in seconds. Env: CIS_COMMAND_TIMEOUT. Default: \(SMTPServerConfiguration.defaultCommandTimeout.wholeSeconds).", valueName: "seconds"))
    var commandTimeout: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Longest wait for more message text during DATA, in seconds. Env: CIS_DATA_TIMEOUT. Default: \(SMTPServerConfiguration.defaultDataTimeout.wholeSeconds).",
        valueName: "seconds"))
    var dataTimeout: String?

    @Option(name: .customLong("tls-handshake-timeout"), parsing: .unconditional, help: ArgumentHelp(
        "Longest wait for the TLS handshake after STARTTLS, in seconds. Env: CIS_TLS_HANDSHAKE_TIMEOUT. Default: \(SMTPServerConfiguration.defaultTLSHandshakeTimeout.wholeSeconds).",
        valueName: "seconds"))
    var tlsHandshakeTimeout: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Longest a session may last, in seconds. Env: CIS_MAX_SESSION_TIME. Default: \(SMTPServerConfiguration.defaultMaximumSessionTime.wholeSeconds).",
        valueName: "seconds"))
    var maxSessionTime: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Slowest average message text rate in bytes per second once the grace period is over, 0 for no check. Env: CIS_MIN_DATA_RATE. Default: \(SMTPServerConfiguration.defaultMinimumDataRate).",
        valueName: "bytes"))
    var minDataRate: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Seconds of DATA before the minimum data rate applies. Env: CIS_MIN_DATA_RATE_GRACE. Default: \(SMTPServerConfiguration.defaultMinimumDataRateGrace.wholeSeconds).",
        valueName: "seconds"))
    var minDataRateGrace: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "After the reply that ends a session (421), seconds it may take to be written before the connection is dropped anyway. Env: CIS_CLOSE_TIMEOUT. Default: \(SMTPServerConfiguration.defaultCloseTimeout.wholeSeconds).",
        valueName: "seconds"))
    var closeTimeout: String?

    @Option(name: .customLong("tcp-keepalive"), parsing: .unconditional, help: ArgumentHelp(
        "Seconds of silence before the first TCP keepalive probe on a client connection (1-32767). Env: CIS_TCP_KEEPALIVE. Default: \(SMTPServerConfiguration.defaultTCPKeepaliveIdle).",
        valueName: "seconds"))
    var tcpKeepalive: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "On SIGTERM/SIGINT, how long a message in flight may take to finish, in seconds. Env: CIS_SHUTDOWN_TIMEOUT. Default: \(SMTPServerConfiguration.defaultShutdownTimeout.wholeSeconds).",
        valueName: "seconds"))
    var shutdownTimeout: String?

    /// The listener configuration these options describe; certificate files are loaded here.
    func serverConfiguration(
        _ settings: Settings, spoolDirectory: String
    ) throws(ConfigurationError) -> SMTPServerConfiguration {
        let listen = try settings.value(
            self.listen, flag: "--listen", variable: "CIS_LISTEN",
            default: ListenAddress(host: SMTPServerConfiguration.defaultHost, port: SMTPServerConfiguration.defaultPort),
            parse: ListenAddress.parse)
        let hostname = try settings.value(
            self.hostname, flag: "--hostname", variable: "CIS_HOSTNAME", default: HostName.local(),
            parse: { (text: String) throws(SettingProblem) -> String in
                if let problem = HostName.problem(with: text) { throw SettingProblem(problem) }
                return text
            })
        let recipients = try self.recipientAddresses(settings)
        let closeTimeout = try settings.value(
            self.closeTimeout, flag: "--close-timeout", variable: "CIS_CLOSE_TIMEOUT",
            default: SMTPServerConfiguration.defaultCloseTimeout, parse: Parse.timeAmount)
        let tlsContext = try self.tlsContext(settings, closeTimeout: closeTimeout)
        let requireTLS = try settings.flag(self.requireTLS, flag: "--require-tls", variable: "CIS_REQUIRE_TLS")
        if requireTLS && tlsContext == nil {
            throw ConfigurationError(source: "--require-tls", problem: "needs a certificate (--tls-cert and --tls-key)")
        }
        return SMTPServerConfiguration(
            host: listen.host,
            port: listen.port,
            hostname: hostname,
            recipients: recipients,
            tlsContext: tlsContext,
            requireTLS: requireTLS,
            maximumMessageSize: try settings.value(
                self.maxMessageSize, flag: "--max-message-size", variable: "CIS_MAX_MESSAGE_SIZE",
                default: SessionConfiguration.defaultMaximumMessageSize, parse: Parse.positiveInteger),
            maximumRecipients: try settings.value(
                self.maxRecipients, flag: "--max-recipients", variable: "CIS_MAX_RECIPIENTS",
                default: SessionConfiguration.defaultMaximumRecipients, parse: Parse.positiveInteger),
            maximumConnections: try settings.value(
                self.maxConnections, flag: "--max-connections", variable: "CIS_MAX_CONNECTIONS",
                default: SMTPServerConfiguration.defaultMaximumConnections,
                parse: Parse.positiveInteger),
            maximumConnectionsPerAddress: try settings.value(
                self.maxConnectionsPerIP, flag: "--max-connections-per-ip", variable: "CIS_MAX_CONNECTIONS_PER_IP",
                default: SMTPServerConfiguration.defaultMaximumConnectionsPerAddress, parse: Parse.positiveInteger),
            maximumConnectionRate: try settings.value(
                self.maxConnectionRate, flag: "--max-connection-rate", variable: "CIS_MAX_CONNECTION_RATE",
                default: SMTPServerConfiguration.defaultMaximumConnectionRate, parse: Parse.nonNegativeInteger),
            clientIPv4Prefix: try settings.value(
                self.clientIPv4Prefix, flag: "--client-ipv4-prefix", variable: "CIS_CLIENT_IPV4_PREFIX",
                default: SMTPServerConfiguration.defaultClientIPv4Prefix, parse: Parse.integer(in: 1...32)),
            clientIPv6Prefix: try settings.value(
                self.clientIPv6Prefix, flag: "--client-ipv6-prefix", variable: "CIS_CLIENT_IPV6_PREFIX",
                default: SMTPServerConfiguration.defaultClientIPv6Prefix, parse: Parse.integer(in: 1...128)),
            commandTimeout: try settings.value(
                self.commandTimeout, flag: "--command-timeout", variable: "CIS_COMMAND_TIMEOUT",
                default: SMTPServerConfiguration.defaultCommandTimeout, parse: Parse.timeAmount),
            dataTimeout: try settings.value(
                self.dataTimeout, flag: "--data-timeout", variable: "CIS_DATA_TIMEOUT",
                default: SMTPServerConfiguration.defaultDataTimeout, parse: Parse.timeAmount),
            tlsHandshakeTimeout: try settings.value(
                self.tlsHandshakeTimeout, flag: "--tls-handshake-timeout", variable: "CIS_TLS_HANDSHAKE_TIMEOUT",
                default: SMTPServerConfiguration.defaultTLSHandshakeTimeout, parse: Parse.timeAmount),
            maximumSessionTime: try settings.value(
                self.maxSessionTime, flag: "--max-session-time", variable: "CIS_MAX_SESSION_TIME",
                default: SMTPServerConfiguration.defaultMaximumSessionTime, parse: Parse.timeAmount),
            minimumDataRate: try settings.value(
                self.minDataRate, flag: "--min-data-rate", variable: "CIS_MIN_DATA_RATE",
                default: SMTPServerConfiguration.defaultMinimumDataRate, parse: Parse.nonNegativeInteger),
            minimumDataRateGrace: try settings.value(
                self.minDataRateGrace, flag: "--min-data-rate-grace", variable: "CIS_MIN_DATA_RATE_GRACE",
                default: SMTPServerConfiguration.defaultMinimumDataRateGrace, parse: Parse.timeAmount),
            maximumPendingReplyBytes: try settings.value(
                self.maxPendingReplyBytes, flag: "--max-pending-reply-bytes", variable: "CIS_MAX_PENDING_REPLY_BYTES",
                default: SMTPServerConfiguration.defaultMaximumPendingReplyBytes,
                parse: Parse.integer(in: 4096...(1 << 30))),
            closeTimeout: closeTimeout,
            tcpKeepaliveIdle: try settings.value(
                self.tcpKeepalive, flag: "--tcp-keepalive", variable: "CIS_TCP_KEEPALIVE",
                default: SMTPServerConfiguration.defaultTCPKeepaliveIdle, parse: Parse.integer(in: 1...32767)),
            junkCommandLimit: try settings.value(
                self.junkCommandLimit, flag: "--junk-command-limit", variable: "CIS_JUNK_COMMAND_LIMIT",
                default: SessionConfiguration.defaultJunkCommandLimit, parse: Parse.positiveInteger),
            spoolDirectory: spoolDirectory)
    }

    /// The graceful-shutdown deadline.
    func shutdownTimeout(_ settings: Settings) throws(ConfigurationError) -> Duration {
        let timeout = try settings.value(
            self.shutdownTimeout, flag: "--shutdown-timeout", variable: "CIS_SHUTDOWN_TIMEOUT",
            default: SMTPServerConfiguration.defaultShutdownTimeout, parse: Parse.timeAmount)
        return .nanoseconds(timeout.nanoseconds)
    }

    private func recipientAddresses(_ settings: Settings) throws(ConfigurationError) -> [String] {
        let source: String
        let addresses: [String]
        if !self.recipients.isEmpty {
            (source, addresses) = ("--recipient", self.recipients)
        } else if let list = settings.environment["CIS_RECIPIENTS"], !list.isEmpty {
            (source, addresses) = (
                "CIS_RECIPIENTS",
                list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            )
        } else {
            return SMTPServerConfiguration.defaultRecipients
        }
        guard !addresses.isEmpty else {
            throw ConfigurationError(source: source, problem: "no address given")
        }
        for address in addresses {
            do {
                _ = try Mailbox.parse(address)
            } catch {
                throw ConfigurationError(source: source, problem: "'\(address)' is not an address (\(error.reason))")
            }
        }
        return addresses
    }

    /// The STARTTLS certificate's path, for its expiry metric.
    func certificatePath(_ settings: Settings) -> String? {
        settings.string(self.tlsCertificate, flag: "--tls-cert", variable: "CIS_TLS_CERT")
    }

    private func tlsContext(_ settings: Settings, closeTimeout: TimeAmount) throws(ConfigurationError) -> NIOSSLContext? {
        let certificate = settings.raw(self.tlsCertificate, flag: "--tls-cert", variable: "CIS_TLS_CERT")
        let key = settings.raw(self.tlsKey, flag: "--tls-key", variable: "CIS_TLS_KEY")
        switch (certificate, key) {
        case (nil, nil):
            return nil
        case (let certificate?, nil):
            throw ConfigurationError(source: certificate.source, problem: "needs --tls-key (or CIS_TLS_KEY) as well")
        case (nil, let key?):
            throw ConfigurationError(source: key.source, problem: "needs --tls-cert (or CIS_TLS_CERT) as well")
        case (let certificate?, let key?):
            do {
                return try SMTPTLS.makeServerContext(
                    certificatePath: certificate.value, privateKeyPath: key.value, closeTimeout: closeTimeout)
            } catch let error as SMTPTLSError {
                throw ConfigurationError(
                    source: error.file == .certificate ? certificate.source : key.source, problem: error.description)
            } catch {
                throw ConfigurationError(source: certificate.source, problem: "\(error)")
            }
        }
    }
}

extension TimeAmount {
    static func seconds(fractional seconds: Double) -> TimeAmount {
        .nanoseconds(Int64((seconds * 1_000_000_000).rounded()))
    }

    /// For help texts: the amount in whole seconds.
    var wholeSeconds: Int64 { self.nanoseconds / 1_000_000_000 }
}

extension Parse {
    /// Seconds, whole or decimal, as a `TimeAmount`.
    static func timeAmount(_ text: String) throws(SettingProblem) -> TimeAmount {
        .seconds(fractional: try self.seconds(text))
    }
}
