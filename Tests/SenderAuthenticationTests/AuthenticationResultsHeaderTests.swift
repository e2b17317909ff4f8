import SenderAuthentication
import Testing

@Suite("Authentication-Results (RFC 8601)")
struct AuthenticationResultsHeaderTests {
    @Test("a passing message: one resinfo per method, with its properties")
    func passing() {
        let field = AuthenticationResultsHeader.field(for: ReportFixtures.report(), authservId: "mx.cis.example")
        #expect(
            field
                == "Authentication-Results: mx.cis.example; spf=pass smtp.mailfrom=alice@example.com; "
                + "dkim=pass header.d=example.com header.s=s1 header.a=rsa-sha256; dmarc=pass (p=reject) header.from=example.com")
    }

    @Test("an unsigned message says dkim=none; ARC is listed with its sealers when present")
    func unsignedWithARC() {
        let arc = ARCCheck(present: true, chainValidation: "pass", sealers: ["lists.example.org"], trusted: true)
        let value = AuthenticationResultsHeader.value(
            for: ReportFixtures.report(dkim: [], dmarc: .fail, arc: arc, authenticated: false), authservId: "mx")
        #expect(value.contains("; dkim=none;"))
        #expect(value.contains("dmarc=fail (p=reject) header.from=example.com"))
        #expect(value.hasSuffix("; arc=pass (sealers lists.example.org, trusted)"))
    }

    @Test("text from the message cannot break the field: no CR or LF, quotes and parentheses escaped")
    func hostileValues() {
        let hostile = DKIMSignatureCheck(
            result: .fail, domain: "evil.example\r\nBcc: victim@example.com", selector: "s\"1", algorithm: "rsa-sha256",
            reason: "bad (body) hash\n")
        let value = AuthenticationResultsHeader.value(for: ReportFixtures.report(dkim: [hostile]), authservId: "mx;evil")
        #expect(!value.contains("\r") && !value.contains("\n"))
        #expect(value.hasPrefix("mxevil; "))
        #expect(value.contains("header.d=\"evil.exampleBcc: victim@example.com\""))
        #expect(value.contains("header.s=\"s\\\"1\""))
        #expect(value.contains("(bad \\(body\\) hash)"))
    }

    @Test("a field claims our authserv-id when its first token is it, after comments and spaces")
    func claims() {
        #expect(AuthenticationResultsHeader.claims(authservId: "mx.cis.example", fieldValue: " MX.cis.example; dkim=pass"))
        #expect(AuthenticationResultsHeader.claims(authservId: "mx.cis.example", fieldValue: " (forged) mx.cis.example;dmarc=pass"))
        #expect(AuthenticationResultsHeader.claims(authservId: "mx.cis.example", fieldValue: "\r\n\tmx.cis.example 1; none"))
        #expect(!AuthenticationResultsHeader.claims(authservId: "mx.cis.example", fieldValue: " mx.google.com; dkim=pass"))
        #expect(!AuthenticationResultsHeader.claims(authservId: "mx.cis.example", fieldValue: " mx.cis.example.evil; dkim=pass"))
    }

    @Test("fields claiming our authserv-id are counted in the header section only, folded ones too")
    func countClaimed() {
        let message = Array(
            (
                "Received: from x\r\nAuthentication-Results: mx.cis.example;\r\n dmarc=pass header.from=bank.example\r\n"
                + "authentication-results: mx.other.example; spf=pass\r\nAuthentication-Results:(c) mx.cis.example; none\r\n"
                + "From: a@bank.example\r\n\r\nAuthentication-Results: mx.cis.example; in the body\r\n"
            ).utf8)
        #expect(ClaimedAuthenticationResults.count(in: message, authservId: "mx.cis.example") == 2)
        #expect(ClaimedAuthenticationResults.count(in: message, authservId: "mx.other.example") == 1)
        #expect(ClaimedAuthenticationResults.count(in: Array("no header at all".utf8), authservId: "mx.cis.example") == 0)
    }
}
