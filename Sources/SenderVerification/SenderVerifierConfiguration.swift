/// The verifier's DNS and limits. Defaults are read by the `cis` options, their help and
/// the README.
public struct SenderVerifierConfiguration: Sendable, Equatable {
    /// Where every query goes; nil: the servers in /etc/resolv.conf.
    public var dnsServer: DNSServerAddress?
    /// One query's timeout.
    public var queryTimeout: Duration
    /// Queries one message may make in total (SPF's own limit of 10 DNS mechanisms applies too).
    public var maximumQueriesPerMessage: Int
    /// Time all of one message's queries may take together.
    public var maximumDNSTimePerMessage: Duration
    /// libunbound's message and RRset caches, each.
    public var cacheBytes: Int
    /// DKIM signatures verified per message; later ones are ignored.
    public var maximumDKIMSignatures: Int
    /// ARC sealers (`d=` of ARC-Seal) whose claimed result may be trusted, lowercased.
    public var trustedARCSealers: Set<String>
    /// The receiving host for SPF's `%{r}` macro and the header's authserv-id.
    public var authservId: String

    public static let defaultDNSTimeoutSeconds = 5.0
    public static let dnsTimeoutRange = 0.1...60.0
    public static let defaultMaximumQueriesPerMessage = 60
    public static let queriesPerMessageRange = 1...1000
    public static let dnsTimePerMessageRange = 0.1...300.0
    public static let dkimSignaturesRange = 1...50
    public static let defaultMaximumDNSTimePerMessageSeconds = 20.0
    public static let defaultCacheBytes = 4 << 20
    public static let defaultMaximumDKIMSignatures = 5
    public static let defaultAuthservId = "cis"

    public init(
        dnsServer: DNSServerAddress? = nil,
        queryTimeout: Duration = .milliseconds(Int(defaultDNSTimeoutSeconds * 1000)),
        maximumQueriesPerMessage: Int = defaultMaximumQueriesPerMessage,
        maximumDNSTimePerMessage: Duration = .milliseconds(Int(defaultMaximumDNSTimePerMessageSeconds * 1000)),
        cacheBytes: Int = defaultCacheBytes,
        maximumDKIMSignatures: Int = defaultMaximumDKIMSignatures,
        trustedARCSealers: Set<String> = [],
        authservId: String = defaultAuthservId
    ) {
        self.dnsServer = dnsServer
        self.queryTimeout = queryTimeout
        self.maximumQueriesPerMessage = maximumQueriesPerMessage
        self.maximumDNSTimePerMessage = maximumDNSTimePerMessage
        self.cacheBytes = cacheBytes
        self.maximumDKIMSignatures = maximumDKIMSignatures
        self.trustedARCSealers = Set(trustedARCSealers.map { $0.lowercased() })
        self.authservId = authservId
    }
}
