extension SenderAuthenticationReport {
    /// The report for a message whose verification did not finish (the consumer's deadline
    /// passed): every check a `temperror` (SES: PROCESSING_FAILED), nothing authenticated.
    public static func unverified(_ input: SenderAuthenticationInput, reason: String) -> SenderAuthenticationReport {
        let usesHelo = input.mailFrom.isEmpty
        let identity = usesHelo ? "postmaster@\(input.helo)" : input.mailFrom
        let domain = (identity.split(separator: "@").last.map(String.init) ?? "").lowercased()
        return SenderAuthenticationReport(
            spf: SPFCheck(result: .temperror, identityKind: usesHelo ? "helo" : "mailfrom", identity: identity, domain: domain, detail: reason),
            dkim: [DKIMSignatureCheck(result: .temperror, domain: "", selector: "", algorithm: "", reason: reason)],
            dmarc: DMARCCheck(result: .temperror, fromDomain: "", organizationalDomain: "", policy: nil), arc: .absent,
            fromAddress: nil, fromDomain: nil, clientAddress: input.clientAddress, senderAuthenticated: false, authenticatedDomains: [])
    }
}
