import Foundation
import SenderAuthentication
import Testing

@Suite struct AuthenticationResultsHeaderTests {
    static func report(
        spf: SPFCheck = SPFCheck(result: .pass, identityKind: "mailfrom", identity: "alice@example.com", domain: "example.com"),
        dkim: [DKIMSignatureCheck] = [DKIMSignatureCheck(result: .pass, domain: "example.com", selector: "s1", algorithm: "rsa-sha256")],
        dmarc: DMARCCheck = DMARCCheck(result: .pass, fromDomain: "example.com", organizationalDomain: "example.com", policy: .reject),
        arc: ARCCheck = .absent
    ) -> SenderAuthenticationReport {
        SenderAuthenticationReport(
            spf: spf, dkim: dkim, dmarc: dmarc, arc: arc, fromAddress: "alice@example.com", fromDomain: "example.com",
            clientAddress: "192.0.2.10", senderAuthenticated: true, authenticatedDomains: ["example.com"])
    }

    @Test func rendersEachMethodWithItsProperties() {
        let header = Self.report().authenticationResultsHeader(authservId: "mx.example.net")
        #expect(header == """
            Authentication-Results: mx.example.net;\r
            \tspf=pass smtp.mailfrom=alice@example.com;\r
            \tdkim=pass header.d=example.com header.s=s1 header.a=rsa-sha256;\r
            \tdmarc=pass (p=REJECT) header.from=example.com;\r
            \tarc=none
            """)
    }

    @Test func heloIdentityFailuresAndNoSignature() {
        let report = Self.report(
            spf: SPFCheck(result: .softfail, identityKind: "helo", identity: "postmaster@mx.example.org", domain: "mx.example.org",
                          detail: "domain (of) mx.example.org does not designate"),
            dkim: [],
            dmarc: DMARCCheck(result: .fail, fromDomain: "example.org", organizationalDomain: "example.org", policy: .quarantine),
            arc: ARCCheck(present: true, chainValidation: "pass", sealers: ["lists.example"], trusted: false))
        let header = report.authenticationResultsHeader(authservId: "mx", folded: false)
        #expect(header == "Authentication-Results: mx; spf=softfail (domain of mx.example.org does not designate) smtp.helo=mx.example.org; dkim=none; dmarc=fail (p=QUARANTINE) header.from=example.org")
    }

    @Test func senderTextCannotStartAnotherFieldOrResult() {
        let hostile = "x@example.com\r\nX-Injected: yes; dkim=pass"
        let report = Self.report(
            spf: SPFCheck(result: .fail, identityKind: "mailfrom", identity: hostile, domain: "example.com", detail: "a)b(c\r\nd"),
            dkim: [DKIMSignatureCheck(result: .fail, domain: "evil\".example", selector: "s;1", algorithm: "rsa-sha256", reason: "bad \"sig\"\n")])
        let header = report.authenticationResultsHeader(authservId: "mx")
        let unfolded = header.replacingOccurrences(of: "\r\n\t", with: " ")
        #expect(!unfolded.contains("\r") && !unfolded.contains("\n"))
        #expect(unfolded.contains("smtp.mailfrom=\"x@example.com  X-Injected: yes; dkim=pass\""))
        #expect(unfolded.contains("(abc  d)"))
        #expect(unfolded.contains("reason=\"bad \\\"sig\\\" \""))
        #expect(unfolded.contains("header.d=\"evil\\\".example\" header.s=\"s;1\""))
    }
}

@Suite struct SESVerdictTests {
    @Test(arguments: [
        (SPFResult.pass, VerdictStatus.pass), (.fail, .fail), (.softfail, .fail), (.none, .gray), (.neutral, .gray),
        (.temperror, .processingFailed), (.permerror, .processingFailed),
    ])
    func spf(result: SPFResult, verdict: VerdictStatus) {
        let report = AuthenticationResultsHeaderTests.report(
            spf: SPFCheck(result: result, identityKind: "mailfrom", identity: "a@example.com", domain: "example.com"))
        #expect(report.spfVerdict == verdict)
    }

    @Test func dkimPassesWhenAnySignaturePasses() {
        func verdict(_ results: [DKIMResult]) -> VerdictStatus {
            AuthenticationResultsHeaderTests.report(
                dkim: results.map { DKIMSignatureCheck(result: $0, domain: "example.com", selector: "s", algorithm: "rsa-sha256") }
            ).dkimVerdict
        }
        #expect(verdict([]) == .gray)
        #expect(verdict([.fail, .pass]) == .pass)
        #expect(verdict([.fail, .permerror]) == .fail)
        #expect(verdict([.temperror]) == .processingFailed)
        #expect(verdict([.temperror, .fail]) == .fail)
    }

    @Test func dmarcPolicyOnlyOnFailure() {
        let failed = AuthenticationResultsHeaderTests.report(
            dmarc: DMARCCheck(result: .fail, fromDomain: "example.com", organizationalDomain: "example.com", policy: .reject))
        #expect(failed.dmarcVerdict == .fail)
        #expect(failed.dmarcPolicy == .reject)
        let passed = AuthenticationResultsHeaderTests.report()
        #expect(passed.dmarcVerdict == .pass)
        #expect(passed.dmarcPolicy == nil)
        let none = AuthenticationResultsHeaderTests.report(
            dmarc: DMARCCheck(result: .none, fromDomain: "example.com", organizationalDomain: "example.com", policy: nil))
        #expect(none.dmarcVerdict == .gray)
        let broken = AuthenticationResultsHeaderTests.report(
            dmarc: DMARCCheck(result: .temperror, fromDomain: "example.com", organizationalDomain: "example.com", policy: nil))
        #expect(broken.dmarcVerdict == .processingFailed)
    }
}

@Suite struct SenderAuthenticationRuleTests {
    /// The last two labels: enough for these test domains.
    static func organizational(_ domain: String) -> String {
        domain.split(separator: ".").suffix(2).joined(separator: ".")
    }

    static func dmarc(_ result: DMARCResult) -> DMARCCheck {
        DMARCCheck(result: result, fromDomain: "mail.example.com", organizationalDomain: "example.com", policy: nil)
    }

    @Test func dmarcPassAuthenticates() {
        #expect(SenderAuthenticationRule.isAuthenticated(
            fromDomain: "mail.example.com", dmarc: Self.dmarc(.pass), authenticatedDomains: [], organizationalDomain: Self.organizational))
    }

    @Test func dmarcFailureNeverAuthenticatesEvenWithAnAlignedPass() {
        for result in [DMARCResult.fail, .temperror, .permerror] {
            #expect(!SenderAuthenticationRule.isAuthenticated(
                fromDomain: "mail.example.com", dmarc: Self.dmarc(result), authenticatedDomains: ["example.com"],
                organizationalDomain: Self.organizational))
        }
    }

    @Test func withoutARecordAnAlignedPassAuthenticatesAndAnUnalignedOneDoesNot() {
        #expect(SenderAuthenticationRule.isAuthenticated(
            fromDomain: "mail.example.com", dmarc: Self.dmarc(.none), authenticatedDomains: ["other.net", "bounce.example.com"],
            organizationalDomain: Self.organizational))
        #expect(!SenderAuthenticationRule.isAuthenticated(
            fromDomain: "mail.example.com", dmarc: Self.dmarc(.none), authenticatedDomains: ["example.net"],
            organizationalDomain: Self.organizational))
        #expect(!SenderAuthenticationRule.isAuthenticated(
            fromDomain: nil, dmarc: Self.dmarc(.pass), authenticatedDomains: ["example.com"], organizationalDomain: Self.organizational))
    }
}

@Suite struct AuthenticationResultsClaimTests {
    @Test(arguments: [
        ("mx.example.net; spf=pass smtp.mailfrom=a@example.com", true),
        ("  MX.Example.NET;\r\n\tdkim=pass header.d=example.com", true),
        ("(forged) mx.example.net 1; dmarc=pass", true),
        ("mx.example.net", true),
        ("mx.example.net.evil; spf=pass", false),
        ("other.example; spf=pass", false),
        ("; mx.example.net", false),
        ("", false),
        ("(unterminated comment mx.example.net; spf=pass", false),
    ])
    func recognizesAFieldClaimingOurId(value: String, claims: Bool) {
        #expect(AuthenticationResultsClaim.claims(fieldValue: value, authservId: "mx.example.net") == claims)
    }
}
