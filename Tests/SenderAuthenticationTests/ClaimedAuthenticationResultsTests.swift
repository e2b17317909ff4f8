import SenderAuthentication
import Testing

@Suite("Authentication-Results fields claiming our authserv-id (RFC 8601 §5)")
struct ClaimedAuthenticationResultsTests {
    @Test("a field claims our authserv-id when its first token is it, after comments and spaces")
    func claims() {
        #expect(ClaimedAuthenticationResults.claims(authservId: "mx.cis.example", fieldValue: " MX.cis.example; dkim=pass"))
        #expect(ClaimedAuthenticationResults.claims(authservId: "mx.cis.example", fieldValue: " (forged) mx.cis.example;dmarc=pass"))
        #expect(ClaimedAuthenticationResults.claims(authservId: "mx.cis.example", fieldValue: "\r\n\tmx.cis.example 1; none"))
        #expect(!ClaimedAuthenticationResults.claims(authservId: "mx.cis.example", fieldValue: " mx.google.com; dkim=pass"))
        #expect(!ClaimedAuthenticationResults.claims(authservId: "mx.cis.example", fieldValue: " mx.cis.example.evil; dkim=pass"))
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
