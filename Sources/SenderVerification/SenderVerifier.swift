import BlockingWork
import SenderAuthentication

/// SPF (libspf2), DKIM (libopendkim), DMARC (libopendmarc) and the ARC claims for one
/// stored message, all DNS through one libunbound resolver. The C calls block, so each
/// message is checked on the blocking pool.
public struct SenderVerifier: SenderVerifying {
    public let configuration: SenderVerifierConfiguration
    private let resolver: any DNSResolving

    public struct SetupError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Throws when the resolver cannot be set up or the public suffix list cannot be read.
    public init(configuration: SenderVerifierConfiguration) throws {
        self.configuration = configuration
        self.resolver = try UnboundResolver(forwarder: configuration.dnsServer, cacheBytes: configuration.cacheBytes)
        _ = SPFEvaluator.initialize
        guard DMARCEvaluator.initialize else {
            throw SetupError(
                description: "libopendmarc cannot read the public suffix list \(DMARCEvaluator.publicSuffixList) (Debian package publicsuffix)")
        }
    }

    public func verify(_ input: SenderAuthenticationInput) async -> SenderAuthenticationReport {
        let configuration = self.configuration
        let resolver = self.resolver
        return await BlockingPool.run {
            Self.verifyBlocking(input, configuration: configuration, resolver: resolver)
        }
    }

    public func organizationalDomain(of domain: String) -> String {
        DMARCEvaluator.organizationalDomain(of: domain)
    }

    static func verifyBlocking(
        _ input: SenderAuthenticationInput, configuration: SenderVerifierConfiguration, resolver: any DNSResolving
    ) -> SenderAuthenticationReport {
        let lookups = DNSLookupBudget(
            resolver: resolver, queryTimeout: configuration.queryTimeout,
            maximumQueries: configuration.maximumQueriesPerMessage, maximumTime: configuration.maximumDNSTimePerMessage)
        let headers = MessageHeaderFields(message: input.message)
        let fromAddress = headers.fromAddress
        let fromDomain = fromAddress.flatMap(MessageHeaderFields.domain(of:))

        let spf = SPFEvaluator.check(
            clientAddress: input.clientAddress, helo: input.helo, mailFrom: input.mailFrom,
            receivingDomain: configuration.authservId, lookups: lookups)
        let dkim = DKIMEvaluator.verify(
            message: input.message, maximumSignatures: configuration.maximumDKIMSignatures, lookups: lookups)
        let dmarc = DMARCEvaluator.evaluate(
            fromDomain: fromDomain, clientAddress: input.clientAddress, spf: spf, dkim: dkim, lookups: lookups)
        let arc = ARCHeaderReader.check(headers, trustedSealers: configuration.trustedARCSealers)

        var authenticated: [String] = []
        for signature in dkim where signature.result == .pass && !authenticated.contains(signature.domain) {
            authenticated.append(signature.domain)
        }
        if spf.result == .pass && !spf.domain.isEmpty && !authenticated.contains(spf.domain) {
            authenticated.append(spf.domain)
        }
        let senderAuthenticated = SenderAuthenticationRule.isAuthenticated(
            fromDomain: fromDomain, dmarc: dmarc, authenticatedDomains: authenticated,
            organizationalDomain: DMARCEvaluator.organizationalDomain(of:))
        return SenderAuthenticationReport(
            spf: spf, dkim: dkim, dmarc: dmarc, arc: arc, fromAddress: fromAddress, fromDomain: fromDomain,
            clientAddress: input.clientAddress, senderAuthenticated: senderAuthenticated,
            authenticatedDomains: authenticated)
    }
}
