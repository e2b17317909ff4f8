import SenderAuthentication
import Testing

@Suite("Authentication-Results fields claiming our authserv-id (RFC 8601 §5)")
struct ClaimedAuthenticationResultsTests {
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
