/// SES's receipt verdicts (`receipt.spfVerdict`, `dkimVerdict`, `dmarcVerdict`, `dmarcPolicy`),
/// derived from the report the way SES documents them: PASS, FAIL, GRAY when there was nothing
/// to check (no SPF record, no signature, no DMARC record), PROCESSING_FAILED when the check
/// could not be made (a DNS failure, a malformed record).
extension SenderAuthenticationReport {
    public var spfVerdict: VerdictStatus {
        switch self.spf.result {
        case .pass: .pass
        case .fail, .softfail: .fail
        case .none, .neutral: .gray
        case .temperror, .permerror: .processingFailed
        }
    }

    /// PASS when any signature passes; else FAIL when any fails; else PROCESSING_FAILED when a
    /// signature could not be checked; GRAY for an unsigned message.
    public var dkimVerdict: VerdictStatus {
        let results = self.dkim.map(\.result)
        if results.contains(.pass) { return .pass }
        if results.contains(where: { [.fail, .policy, .neutral].contains($0) }) { return .fail }
        if results.contains(where: { [.temperror, .permerror].contains($0) }) { return .processingFailed }
        return .gray
    }

    public var dmarcVerdict: VerdictStatus {
        switch self.dmarc.result {
        case .pass: .pass
        case .fail: .fail
        case .none: .gray
        case .temperror, .permerror: .processingFailed
        }
    }

    /// The published policy, given only when the message fails DMARC (as SES gives `dmarcPolicy`).
    public var dmarcPolicy: DMARCPolicy? {
        self.dmarc.result == .fail ? self.dmarc.policy : nil
    }
}
