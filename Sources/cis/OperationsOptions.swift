import ArgumentParser
import Operations

/// The HTTP side port's options (metrics, health, the status page), shared by `cis serve`,
/// `cis smtp` and `cis consume`.
struct OperationsOptions: ParsableArguments {
    @Option(name: .customLong("http-listen"), parsing: .unconditional, help: ArgumentHelp(
        "Address of the HTTP side port (/metrics, /healthz, /readyz, the status page at /), or 'off'. Env: CIS_HTTP_LISTEN. Default: \(OperationsConfiguration.defaultHost):\(OperationsConfiguration.defaultPort).",
        valueName: "host:port|off"))
    var httpListen: String?

    @Option(name: .customLong("http-token"), parsing: .unconditional, help: ArgumentHelp(
        "Bearer token for everything on the HTTP side port beyond /healthz and /metrics; required when it listens off loopback. Env: CIS_HTTP_TOKEN. Default: none.",
        valueName: "token"))
    var httpToken: String?

    @Option(name: .customLong("ready-max-queue-depth"), parsing: .unconditional, help: ArgumentHelp(
        "/readyz fails while the queue holds more messages than this. Env: CIS_READY_MAX_QUEUE_DEPTH. Default: \(OperationsConfiguration.defaultReadyMaximumQueueDepth).",
        valueName: "n"))
    var readyMaxQueueDepth: String?

    @Option(name: .customLong("ready-min-disk-free"), parsing: .unconditional, help: ArgumentHelp(
        "/readyz fails while the data directory's file system has less free space than this many MiB. Env: CIS_READY_MIN_DISK_FREE. Default: \(OperationsConfiguration.defaultReadyMinimumDiskFreeMiB).",
        valueName: "MiB"))
    var readyMinDiskFree: String?

    @Option(name: .customLong("status-messages"), parsing: .unconditional, help: ArgumentHelp(
        "Messages the status page keeps and lists (the last hour, newest first). Env: CIS_STATUS_MESSAGES. Default: \(OperationsConfiguration.defaultStatusMessages).",
        valueName: "n"))
    var statusMessages: String?

    @Option(name: .customLong("http-max-connections"), parsing: .unconditional, help: ArgumentHelp(
        "Open connections to the HTTP side port at most (\(OperationsConfiguration.maximumConnectionsRange.text)); more wait in the listen backlog until one closes (an idle one closes after --http-idle-timeout). Env: CIS_HTTP_MAX_CONNECTIONS. Default: \(OperationsConfiguration.defaultMaximumConnections).",
        valueName: "n"))
    var httpMaxConnections: String?

    @Option(name: .customLong("http-idle-timeout"), parsing: .unconditional, help: ArgumentHelp(
        "Seconds an HTTP side port connection may sit idle before it is closed (\(OperationsConfiguration.idleTimeoutSecondsRange.text)). Env: CIS_HTTP_IDLE_TIMEOUT. Default: \(OperationsConfiguration.defaultIdleTimeoutSeconds).",
        valueName: "seconds"))
    var httpIdleTimeout: String?

    @Option(name: .customLong("http-request-timeout"), parsing: .unconditional, help: ArgumentHelp(
        "Seconds within which an HTTP side port connection's next request must arrive whole, from the connection's start or the previous response (\(OperationsConfiguration.requestTimeoutSecondsRange.text)); a request trickled in slower is closed without an answer. Env: CIS_HTTP_REQUEST_TIMEOUT. Default: \(OperationsConfiguration.defaultRequestTimeoutSeconds).",
        valueName: "seconds"))
    var httpRequestTimeout: String?

    @Option(name: .customLong("ready-probe-timeout"), parsing: .unconditional, help: ArgumentHelp(
        "Seconds one readiness check (S3, SQS, SNS, the queue, disk free) may take before /readyz counts it failed (\(OperationsConfiguration.probeTimeoutSecondsRange.text)). Env: CIS_READY_PROBE_TIMEOUT. Default: \(OperationsConfiguration.defaultProbeTimeoutSeconds).",
        valueName: "seconds"))
    var readyProbeTimeout: String?

    /// nil with `--http-listen off`. A non-loopback address without a token stops the start.
    func configuration(
        _ settings: Settings
    ) throws(ConfigurationError) -> (configuration: OperationsConfiguration, policy: HTTPAccessPolicy)? {
        let listen = try settings.value(
            self.httpListen, flag: "--http-listen", variable: "CIS_HTTP_LISTEN",
            default: ListenAddress?.some(ListenAddress(host: OperationsConfiguration.defaultHost, port: OperationsConfiguration.defaultPort)),
            parse: { (text: String) throws(SettingProblem) -> ListenAddress? in
                text.lowercased() == "off" ? nil : try ListenAddress.parse(text)
            })
        guard let listen else { return nil }
        let token = settings.string(self.httpToken, flag: "--http-token", variable: "CIS_HTTP_TOKEN")
        let policy: HTTPAccessPolicy
        do {
            policy = try HTTPAccessPolicy(listenHost: listen.host, token: token)
        } catch {
            throw ConfigurationError(source: "--http-listen", problem: "\(error)")
        }
        if let token = policy.token, let problem = Self.tokenProblem(token) {
            // The token itself is a secret: the problem names it by its source only.
            let source = settings.raw(self.httpToken, flag: "--http-token", variable: "CIS_HTTP_TOKEN")?.source
            throw ConfigurationError(source: source ?? "--http-token", problem: problem)
        }
        let configuration = OperationsConfiguration(
            host: listen.host, port: listen.port, token: policy.token,
            statusMessages: try settings.value(
                self.statusMessages, flag: "--status-messages", variable: "CIS_STATUS_MESSAGES",
                default: OperationsConfiguration.defaultStatusMessages, parse: Parse.integer(in: 1...10_000)),
            readyMaximumQueueDepth: try settings.value(
                self.readyMaxQueueDepth, flag: "--ready-max-queue-depth", variable: "CIS_READY_MAX_QUEUE_DEPTH",
                default: OperationsConfiguration.defaultReadyMaximumQueueDepth, parse: Parse.positiveInteger),
            readyMinimumDiskFreeBytes: UInt64(
                try settings.value(
                    self.readyMinDiskFree, flag: "--ready-min-disk-free", variable: "CIS_READY_MIN_DISK_FREE",
                    default: OperationsConfiguration.defaultReadyMinimumDiskFreeMiB, parse: Parse.nonNegativeInteger)) << 20,
            probeTimeout: .seconds(
                try settings.value(
                    self.readyProbeTimeout, flag: "--ready-probe-timeout", variable: "CIS_READY_PROBE_TIMEOUT",
                    default: OperationsConfiguration.defaultProbeTimeoutSeconds,
                    parse: Parse.integer(in: OperationsConfiguration.probeTimeoutSecondsRange))),
            maximumConnections: try settings.value(
                self.httpMaxConnections, flag: "--http-max-connections", variable: "CIS_HTTP_MAX_CONNECTIONS",
                default: OperationsConfiguration.defaultMaximumConnections,
                parse: Parse.integer(in: OperationsConfiguration.maximumConnectionsRange)),
            idleTimeout: .seconds(
                try settings.value(
                    self.httpIdleTimeout, flag: "--http-idle-timeout", variable: "CIS_HTTP_IDLE_TIMEOUT",
                    default: OperationsConfiguration.defaultIdleTimeoutSeconds,
                    parse: Parse.integer(in: OperationsConfiguration.idleTimeoutSecondsRange))),
            requestTimeout: .seconds(
                try settings.value(
                    self.httpRequestTimeout, flag: "--http-request-timeout", variable: "CIS_HTTP_REQUEST_TIMEOUT",
                    default: OperationsConfiguration.defaultRequestTimeoutSeconds,
                    parse: Parse.integer(in: OperationsConfiguration.requestTimeoutSecondsRange))),
            listenAddressIsDefault: settings.raw(self.httpListen, flag: "--http-listen", variable: "CIS_HTTP_LISTEN") == nil)
        return (configuration, policy)
    }

    /// A token goes into a header and a URL: printable ASCII without spaces, and long enough to guess at no rate.
    static func tokenProblem(_ token: String) -> String? {
        guard token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return "has characters other than printable ASCII" }
        guard token.utf8.count >= 16 else { return "is shorter than 16 characters" }
        return nil
    }
}
