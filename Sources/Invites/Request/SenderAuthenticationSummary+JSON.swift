import Notifications
import SenderAuthentication

extension SenderAuthenticationSummary {
    /// Longest text copied from the report into the JSON (a domain name is at most 253).
    static let maximumTextCharacters = 512
    /// Most DKIM signatures listed in `receipt.dkimSignatures`.
    static let maximumListedSignatures = 16
    /// Most entries of `receipt.authenticatedDomains` and `receipt.arc.sealers`.
    static let maximumListedDomains = 32

    /// Writes the sender-authentication members of the event JSON and of the failure notice:
    /// `receipt` (SES's verdicts and the detail SES lacks), `authentication_results`,
    /// `sender_authenticated`, `sender_policy`, and on events `organizer_matches_sender`.
    ///
    /// Every object's members are written in alphabetical order, the order of the sorted-keys
    /// `JSONSerialization` output this replaced (byte-equal, checked by `SenderAuthenticationJSONTests`).
    func writeFields(to writer: inout JSONObjectWriter) {
        writer.field("authentication_results", self.authenticationResults)
        if let matches = self.organizerMatchesSender { writer.field("organizer_matches_sender", matches) }
        writer.field("receipt", object: self.writeReceipt)
        writer.field("sender_authenticated", self.report.senderAuthenticated)
        writer.field("sender_policy", self.policy)
    }

    private func writeReceipt(to writer: inout JSONObjectWriter) {
        let report = self.report
        writer.field("arc") { arc in
            arc.field("chainValidation", report.arc.chainValidation.map(Self.cut))
            arc.field("present", report.arc.present)
            arc.field("sealers", strings: report.arc.sealers.prefix(Self.maximumListedDomains).map(Self.cut))
            arc.field("trusted", report.arc.trusted)
        }
        writer.field("authenticatedDomains", strings: report.authenticatedDomains.prefix(Self.maximumListedDomains).map(Self.cut))
        writer.field("clientIp", Self.cut(report.clientAddress))
        writer.field("dkimSignatures", array: report.dkim.prefix(Self.maximumListedSignatures)) { writer, signature in
            writer.field("algorithm", Self.cut(signature.algorithm))
            writer.field("domain", Self.cut(signature.domain))
            writer.field("reason", signature.reason.map(Self.cut))
            writer.field("result", signature.result.rawValue)
            writer.field("selector", Self.cut(signature.selector))
        }
        writer.field("dkimVerdict") { $0.field("status", report.dkimVerdict.rawValue) }
        writer.field("dmarc") { dmarc in
            dmarc.field("fromDomain", Self.cut(report.dmarc.fromDomain))
            dmarc.field("organizationalDomain", Self.cut(report.dmarc.organizationalDomain))
            dmarc.field("policy", report.dmarc.policy?.rawValue)
            dmarc.field("result", report.dmarc.result.rawValue)
        }
        if let policy = report.dmarcPolicy { writer.field("dmarcPolicy") { $0.field("status", policy.rawValue) } }
        writer.field("dmarcVerdict") { $0.field("status", report.dmarcVerdict.rawValue) }
        writer.field("fromAddress", report.fromAddress.map(Self.cut))
        writer.field("fromDomain", report.fromDomain.map(Self.cut))
        writer.field("ignoredAuthenticationResults", self.ignoredAuthenticationResults)
        writer.field("spf") { spf in
            spf.field("domain", Self.cut(report.spf.domain))
            spf.field("identity", Self.cut(report.spf.identity))
            spf.field("identityKind", Self.cut(report.spf.identityKind))
            spf.field("result", report.spf.result.rawValue)
        }
        writer.field("spfVerdict") { $0.field("status", report.spfVerdict.rawValue) }
    }

    private static func cut(_ text: String) -> String {
        text.count <= Self.maximumTextCharacters ? text : String(text.prefix(Self.maximumTextCharacters))
    }
}
