import SenderAuthentication
import Testing

@Suite("Authentication-Results (RFC 8601)")
struct AuthenticationResultsFieldTests {
    @Test("a passing message: one resinfo per method, with its properties")
    func passing() {
        let field = AuthenticationResultsField.field(for: ReportFixtures.report(), authservId: "mx.cis.example")
        #expect(
            field
                == "Authentication-Results: mx.cis.example; spf=pass smtp.mailfrom=alice@example.com; "
                + "dkim=pass header.d=example.com header.s=s1 header.a=rsa-sha256; dmarc=pass (p=reject) header.from=example.com")
    }

    @Test("an unsigned message says dkim=none; ARC is listed with its sealers when present")
    func unsignedWithARC() {
        let arc = ARCCheck(present: true, chainValidation: "pass", sealers: ["lists.example.org"], trusted: true)
        let value = AuthenticationResultsField.value(
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
        let value = AuthenticationResultsField.value(for: ReportFixtures.report(dkim: [hostile]), authservId: "mx;evil")
        #expect(!value.contains("\r") && !value.contains("\n"))
        #expect(value.hasPrefix("mxevil; "))
        #expect(value.contains("header.d=\"evil.exampleBcc: victim@example.com\""))
        #expect(value.contains("header.s=\"s\\\"1\""))
        #expect(value.contains("(bad \\(body\\) hash)"))
    }
}
