import SenderAuthentication

/// Reports as a verifier gives them, for the mapping and rendering tests.
enum ReportFixtures {
    static func report(
        spf: SPFResult = .pass, dkim: [DKIMSignatureCheck] = [.init(result: .pass, domain: "example.com", selector: "s1", algorithm: "rsa-sha256")],
        dmarc: DMARCResult = .pass, policy: DMARCPolicy? = .reject, arc: ARCCheck = .absent, authenticated: Bool = true
    ) -> SenderAuthenticationReport {
        SenderAuthenticationReport(
            spf: SPFCheck(result: spf, identityKind: "mailfrom", identity: "alice@example.com", domain: "example.com"),
            dkim: dkim,
            dmarc: DMARCCheck(result: dmarc, fromDomain: "example.com", organizationalDomain: "example.com", policy: policy),
            arc: arc, fromAddress: "alice@example.com", fromDomain: "example.com", clientAddress: "192.0.2.10",
            senderAuthenticated: authenticated, authenticatedDomains: authenticated ? ["example.com"] : [])
    }
}
