import SenderAuthentication

extension SenderAuthenticationSummary {
    /// Longest text copied from the report into the JSON (a domain name is at most 253).
    static let maximumTextCharacters = 512
    /// Most DKIM signatures listed in `receipt.dkimSignatures`.
    static let maximumListedSignatures = 16
    /// Most entries of `receipt.authenticatedDomains` and `receipt.arc.sealers`.
    static let maximumListedDomains = 32

    /// The sender-authentication members of the event JSON and of the failure notice:
    /// `receipt` (SES's verdicts and the detail SES lacks), `authentication_results`,
    /// `sender_authenticated`, `sender_policy`, and on events `organizer_matches_sender`.
    func jsonFields() -> [String: Any?] {
        var fields: [String: Any?] = [
            "receipt": self.receipt,
            "authentication_results": self.authenticationResults,
            "sender_authenticated": self.report.senderAuthenticated,
            "sender_policy": self.policy,
        ]
        if let matches = self.organizerMatchesSender { fields["organizer_matches_sender"] = matches }
        return fields
    }

    private var receipt: [String: Any] {
        let report = self.report
        var receipt: [String: Any?] = [
            "spfVerdict": ["status": report.spfVerdict.rawValue],
            "dkimVerdict": ["status": report.dkimVerdict.rawValue],
            "dmarcVerdict": ["status": report.dmarcVerdict.rawValue],
            "spf": JSONText.object([
                "result": report.spf.result.rawValue,
                "identityKind": Self.cut(report.spf.identityKind),
                "identity": Self.cut(report.spf.identity),
                "domain": Self.cut(report.spf.domain),
            ]),
            "dkimSignatures": report.dkim.prefix(Self.maximumListedSignatures).map { signature in
                JSONText.object([
                    "result": signature.result.rawValue,
                    "domain": Self.cut(signature.domain),
                    "selector": Self.cut(signature.selector),
                    "algorithm": Self.cut(signature.algorithm),
                    "reason": signature.reason.map(Self.cut),
                ])
            },
            "dmarc": JSONText.object([
                "result": report.dmarc.result.rawValue,
                "fromDomain": Self.cut(report.dmarc.fromDomain),
                "organizationalDomain": Self.cut(report.dmarc.organizationalDomain),
                "policy": report.dmarc.policy?.rawValue,
            ]),
            "arc": JSONText.object([
                "present": report.arc.present,
                "chainValidation": report.arc.chainValidation.map(Self.cut),
                "sealers": report.arc.sealers.prefix(Self.maximumListedDomains).map(Self.cut),
                "trusted": report.arc.trusted,
            ]),
            "authenticatedDomains": report.authenticatedDomains.prefix(Self.maximumListedDomains).map(Self.cut),
            "fromAddress": report.fromAddress.map(Self.cut),
            "fromDomain": report.fromDomain.map(Self.cut),
            "clientIp": Self.cut(report.clientAddress),
            "ignoredAuthenticationResults": self.ignoredAuthenticationResults,
        ]
        if let policy = report.dmarcPolicy { receipt["dmarcPolicy"] = ["status": policy.rawValue] }
        return JSONText.object(receipt)
    }

    private static func cut(_ text: String) -> String {
        text.count <= Self.maximumTextCharacters ? text : String(text.prefix(Self.maximumTextCharacters))
    }
}
