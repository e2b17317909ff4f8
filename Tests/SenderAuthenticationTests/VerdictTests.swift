import SenderAuthentication
import Testing

@Suite("SES verdicts from a report")
struct VerdictTests {
    @Test("SPF: pass, fail and softfail, none and neutral, errors", arguments: [
        (SPFResult.pass, VerdictStatus.pass), (.fail, .fail), (.softfail, .fail), (.none, .gray), (.neutral, .gray),
        (.temperror, .processingFailed), (.permerror, .processingFailed),
    ])
    func spf(result: SPFResult, verdict: VerdictStatus) {
        #expect(ReportFixtures.report(spf: result).spfVerdict == verdict)
    }

    @Test("DKIM: any pass wins, then any failure, then errors; unsigned is GRAY")
    func dkim() {
        func signature(_ result: DKIMResult) -> DKIMSignatureCheck {
            DKIMSignatureCheck(result: result, domain: "example.com", selector: "s", algorithm: "rsa-sha256")
        }
        #expect(ReportFixtures.report(dkim: []).dkimVerdict == .gray)
        #expect(ReportFixtures.report(dkim: [signature(.fail), signature(.pass)]).dkimVerdict == .pass)
        #expect(ReportFixtures.report(dkim: [signature(.temperror), signature(.fail)]).dkimVerdict == .fail)
        #expect(ReportFixtures.report(dkim: [signature(.temperror)]).dkimVerdict == .processingFailed)
        #expect(ReportFixtures.report(dkim: [signature(.neutral)]).dkimVerdict == .fail)
    }

    @Test("DMARC verdict, and the policy only when DMARC fails (as SES)")
    func dmarc() {
        #expect(ReportFixtures.report(dmarc: .pass).dmarcVerdict == .pass)
        #expect(ReportFixtures.report(dmarc: .pass).dmarcPolicy == nil)
        #expect(ReportFixtures.report(dmarc: .fail, policy: .quarantine).dmarcVerdict == .fail)
        #expect(ReportFixtures.report(dmarc: .fail, policy: .quarantine).dmarcPolicy == .quarantine)
        #expect(ReportFixtures.report(dmarc: .none, policy: nil).dmarcVerdict == .gray)
        #expect(ReportFixtures.report(dmarc: .temperror).dmarcVerdict == .processingFailed)
    }

    @Test("an unverified report (deadline passed) is PROCESSING_FAILED everywhere and not authenticated")
    func unverified() {
        let input = SenderAuthenticationInput(message: [], clientAddress: "192.0.2.1", helo: "mx.example.net", mailFrom: "")
        let report = SenderAuthenticationReport.unverified(input, reason: "took too long")
        #expect(report.spfVerdict == .processingFailed)
        #expect(report.dkimVerdict == .processingFailed)
        #expect(report.dmarcVerdict == .processingFailed)
        #expect(report.spf.identityKind == "helo")
        #expect(report.spf.identity == "postmaster@mx.example.net")
        #expect(!report.senderAuthenticated)
    }
}
