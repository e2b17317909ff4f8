/// The HTTP side port's settings and the limits of what it keeps in memory.
public struct OperationsConfiguration: Sendable {
    /// Where `/metrics`, `/healthz`, `/readyz` and the status page are served.
    public static let defaultHost = "127.0.0.1"
    public static let defaultPort = 9025
    /// Readiness fails while the queue holds more messages than this.
    public static let defaultReadyMaximumQueueDepth = 10_000
    /// Readiness fails while the data directory's file system has less free space than this (MiB).
    public static let defaultReadyMinimumDiskFreeMiB = 256
    /// Messages the status page lists (newest first); the ring buffer holds this many.
    public static let defaultStatusMessages = 500
    /// How often readiness probes and sampled gauges (queue depth, disk free) run.
    public static let defaultProbeInterval: Duration = .seconds(5)
    /// A probe that takes longer than this counts as failed (seconds).
    public static let defaultProbeTimeoutSeconds = 3
    public static let probeTimeoutSecondsRange = 1...60
    /// Open HTTP connections at most; more wait in the listen backlog until one closes.
    public static let defaultMaximumConnections = 64
    public static let maximumConnectionsRange = 1...10_000
    /// An HTTP connection idle this long is closed (seconds), which also bounds how long a
    /// connection past `maximumConnections` waits while the others sit idle.
    public static let defaultIdleTimeoutSeconds = 30
    public static let idleTimeoutSecondsRange = 1...3600
    /// A connection's next request must arrive whole within this many seconds of the connection
    /// opening or of the previous response (a client trickling a request a byte at a time is
    /// never idle, so the idle timeout alone would let it keep its slot).
    public static let defaultRequestTimeoutSeconds = 10
    public static let requestTimeoutSecondsRange = 1...600
    /// Dead letters the status page lists at most (the embedded queue's newest).
    public static let maximumDeadLettersListed = 200
    /// SQS dead letters the status page peeks at at most: one ReceiveMessage of 10, this many times.
    public static let maximumSQSDeadLetterPeeks = 5

    public var host: String
    public var port: Int
    /// Bearer token for everything beyond `/healthz` and `/metrics`; required off loopback.
    public var token: String?
    public var statusMessages: Int
    public var readyMaximumQueueDepth: Int
    public var readyMinimumDiskFreeBytes: UInt64
    public var probeInterval: Duration
    public var probeTimeout: Duration
    public var maximumConnections: Int
    public var idleTimeout: Duration
    public var requestTimeout: Duration
    /// The address was not chosen (the default): when it is taken, the process goes on without
    /// the side port instead of stopping.
    public var listenAddressIsDefault: Bool

    public init(
        host: String = Self.defaultHost, port: Int = Self.defaultPort, token: String? = nil,
        statusMessages: Int = Self.defaultStatusMessages,
        readyMaximumQueueDepth: Int = Self.defaultReadyMaximumQueueDepth,
        readyMinimumDiskFreeBytes: UInt64 = UInt64(Self.defaultReadyMinimumDiskFreeMiB) << 20,
        probeInterval: Duration = Self.defaultProbeInterval, probeTimeout: Duration = .seconds(Self.defaultProbeTimeoutSeconds),
        maximumConnections: Int = Self.defaultMaximumConnections, idleTimeout: Duration = .seconds(Self.defaultIdleTimeoutSeconds),
        requestTimeout: Duration = .seconds(Self.defaultRequestTimeoutSeconds), listenAddressIsDefault: Bool = false
    ) {
        self.requestTimeout = requestTimeout
        self.probeTimeout = probeTimeout
        self.maximumConnections = maximumConnections
        self.idleTimeout = idleTimeout
        self.listenAddressIsDefault = listenAddressIsDefault
        self.host = host
        self.port = port
        self.token = token
        self.statusMessages = statusMessages
        self.readyMaximumQueueDepth = readyMaximumQueueDepth
        self.readyMinimumDiskFreeBytes = readyMinimumDiskFreeBytes
        self.probeInterval = probeInterval
    }
}
