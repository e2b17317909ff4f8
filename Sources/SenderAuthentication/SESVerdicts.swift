/// The verdicts as SES inbound gives them (`receipt.spfVerdict.status` and its siblings).
extension SenderAuthenticationReport {
    /// pass: PASS; fail and softfail: FAIL; none and neutral: GRAY; temperror and permerror:
    /// PROCESSING_FAILED.
    public var spfVerdict: VerdictStatus {
        switch self.spf.result {
        case .pass: .pass
        case .fail, .softfail: .fail
        case .none, .neutral: .gray
        case .temperror, .permerror: .processingFailed
        }
    }

    /// PASS when any signature passes; GRAY with no signature; PROCESSING_FAILED when every
    /// signature failed for a temporary error (DNS); FAIL otherwise.
    public var dkimVerdict: VerdictStatus {
        if self.dkim.contains(where: { $0.result == .pass }) { return .pass }
        if self.dkim.isEmpty || self.dkim.allSatisfy({ $0.result == .none }) { return .gray }
        if self.dkim.allSatisfy({ $0.result == .temperror }) { return .processingFailed }
        return .fail
    }

    /// pass: PASS; fail: FAIL; none (no record): GRAY; temperror and permerror: PROCESSING_FAILED.
    public var dmarcVerdict: VerdictStatus {
        switch self.dmarc.result {
        case .pass: .pass
        case .fail: .fail
        case .none: .gray
        case .temperror, .permerror: .processingFailed
        }
    }

    /// The policy that applies, only when DMARC failed (as SES gives `dmarcPolicy`).
    public var dmarcPolicy: DMARCPolicy? {
        self.dmarc.result == .fail ? self.dmarc.policy : nil
    }
}

extension SenderAuthenticationReport {
    /// Whether a check ended in a `temperror` (DNS timed out or failed, the budget or the deadline
    /// ran out), so that the same message may verify differently later.
    public var hasTemporaryError: Bool {
        self.spf.result == .temperror || self.dkim.contains { $0.result == .temperror } || self.dmarc.result == .temperror
    }
}
