import ArgumentParser
import Foundation
import SenderVerification

/// How sender authentication (SPF, DKIM, DMARC) reaches DNS and names itself: shared by
/// `cis verify-sender` and the consumer. Every option also reads an environment variable.
struct SenderAuthenticationOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: ArgumentHelp(
        "DNS server for every SPF, DKIM and DMARC lookup, an IP address with an optional port (HOST[:PORT], [IPv6]:PORT); queries ask it for recursion. Env: CIS_DNS_SERVER. Default: resolv.conf.",
        valueName: "host[:port]"))
    var dnsServer: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Seconds one DNS query may take, \(SenderVerifierConfiguration.dnsTimeoutRange.lowerBound.optionText) to \(SenderVerifierConfiguration.dnsTimeoutRange.upperBound.optionText); an unanswered query is a temperror. Env: CIS_DNS_TIMEOUT. Default: \(SenderVerifierConfiguration.defaultDNSTimeoutSeconds.optionText).",
        valueName: "seconds"))
    var dnsTimeout: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "DNS queries one message's checks may make in all, \(SenderVerifierConfiguration.queriesPerMessageRange.text); past it, lookups are temperrors. Env: CIS_DNS_QUERIES_PER_MESSAGE. Default: \(SenderVerifierConfiguration.defaultMaximumQueriesPerMessage).",
        valueName: "n"))
    var dnsQueriesPerMessage: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Seconds all of one message's DNS queries may take together, \(SenderVerifierConfiguration.dnsTimePerMessageRange.lowerBound.optionText) to \(SenderVerifierConfiguration.dnsTimePerMessageRange.upperBound.optionText). Env: CIS_DNS_TIME_PER_MESSAGE. Default: \(SenderVerifierConfiguration.defaultMaximumDNSTimePerMessageSeconds.optionText).",
        valueName: "seconds"))
    var dnsTimePerMessage: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "DKIM signatures verified per message, \(SenderVerifierConfiguration.dkimSignaturesRange.text); later ones are ignored. Env: CIS_MAX_DKIM_SIGNATURES. Default: \(SenderVerifierConfiguration.defaultMaximumDKIMSignatures).",
        valueName: "n"))
    var maxDkimSignatures: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "The authserv-id of the Authentication-Results header (RFC 8601), usually this host's name. Env: CIS_AUTHSERV_ID. Default: \(SenderVerifierConfiguration.defaultAuthservId).",
        valueName: "name"))
    var authservId: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Comma-separated ARC sealer domains (ARC-Seal d=) whose claimed results may be trusted; ARC seals are not verified yet, so none is acted on. Env: CIS_TRUSTED_ARC_SEALERS. Default: none.",
        valueName: "domains"))
    var trustedArcSealers: String?

    func configuration(_ settings: Settings) throws(ConfigurationError) -> SenderVerifierConfiguration {
        let server: DNSServerAddress? = try settings.value(
            self.dnsServer, flag: "--dns-server", variable: "CIS_DNS_SERVER", default: nil,
            parse: { (text: String) throws(SettingProblem) -> DNSServerAddress? in
                guard let address = DNSServerAddress(text) else {
                    throw SettingProblem("is not an IP address with an optional port (192.0.2.53, 192.0.2.53:5353, [2001:db8::53]:53)")
                }
                return address
            })
        let timeout = try settings.value(
            self.dnsTimeout, flag: "--dns-timeout", variable: "CIS_DNS_TIMEOUT",
            default: SenderVerifierConfiguration.defaultDNSTimeoutSeconds,
            parse: Parse.seconds(in: SenderVerifierConfiguration.dnsTimeoutRange))
        let queries = try settings.value(
            self.dnsQueriesPerMessage, flag: "--dns-queries-per-message", variable: "CIS_DNS_QUERIES_PER_MESSAGE",
            default: SenderVerifierConfiguration.defaultMaximumQueriesPerMessage,
            parse: Parse.integer(in: SenderVerifierConfiguration.queriesPerMessageRange))
        let time = try settings.value(
            self.dnsTimePerMessage, flag: "--dns-time-per-message", variable: "CIS_DNS_TIME_PER_MESSAGE",
            default: SenderVerifierConfiguration.defaultMaximumDNSTimePerMessageSeconds,
            parse: Parse.seconds(in: SenderVerifierConfiguration.dnsTimePerMessageRange))
        let signatures = try settings.value(
            self.maxDkimSignatures, flag: "--max-dkim-signatures", variable: "CIS_MAX_DKIM_SIGNATURES",
            default: SenderVerifierConfiguration.defaultMaximumDKIMSignatures,
            parse: Parse.integer(in: SenderVerifierConfiguration.dkimSignaturesRange))
        let authservId = try settings.value(
            self.authservId, flag: "--authserv-id", variable: "CIS_AUTHSERV_ID",
            default: SenderVerifierConfiguration.defaultAuthservId, parse: Parse.domainName)
        let sealers = try settings.value(
            self.trustedArcSealers, flag: "--trusted-arc-sealers", variable: "CIS_TRUSTED_ARC_SEALERS", default: [],
            parse: { (text: String) throws(SettingProblem) -> [String] in
                var domains: [String] = []
                for item in text.split(separator: ",", omittingEmptySubsequences: false) {
                    domains.append(try Parse.domainName(item.trimmingCharacters(in: .whitespaces)))
                }
                return domains
            })
        return SenderVerifierConfiguration(
            dnsServer: server, queryTimeout: .milliseconds(Int((timeout * 1000).rounded())),
            maximumQueriesPerMessage: queries, maximumDNSTimePerMessage: .milliseconds(Int((time * 1000).rounded())),
            maximumDKIMSignatures: signatures, trustedARCSealers: Set(sealers), authservId: authservId)
    }
}

extension Parse {
    /// A host name: letters, digits, hyphens and dots, 1 to 253 characters, labels of 1 to 63.
    static func domainName(_ text: String) throws(SettingProblem) -> String {
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        guard !text.isEmpty, text.utf8.count <= 253,
            labels.allSatisfy({ label in
                (1...63).contains(label.utf8.count) && label.first != "-" && label.last != "-"
                    && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
            })
        else {
            throw SettingProblem("is not a domain name (letters, digits, hyphens, dots)")
        }
        return text.lowercased()
    }
}
