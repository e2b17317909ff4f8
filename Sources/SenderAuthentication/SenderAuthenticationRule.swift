/// When a sender counts as authenticated (issue 10): the `From:` domain passes DMARC, or,
/// where it publishes no DMARC record, a passing DKIM signature or SPF identity is aligned
/// with it (relaxed alignment, RFC 7489 §3.1: the same organizational domain).
public enum SenderAuthenticationRule {
    public static func isAuthenticated(
        fromDomain: String?, dmarc: DMARCCheck, authenticatedDomains: [String],
        organizationalDomain: (String) -> String
    ) -> Bool {
        guard let fromDomain, !fromDomain.isEmpty else { return false }
        switch dmarc.result {
        case .pass:
            return true
        case .none:
            let organizational = organizationalDomain(fromDomain)
            return authenticatedDomains.contains { organizationalDomain($0) == organizational }
        case .fail, .temperror, .permerror:
            return false
        }
    }
}
