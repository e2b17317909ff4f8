import COpenDMARC
import SenderAuthentication

/// RFC 7489 evaluation with libopendmarc: we fetch the `_dmarc` record through our resolver
/// and hand it to `opendmarc_policy_store_dmarc`; libopendmarc parses it, checks alignment
/// (organizational domains from the public suffix list) and picks the policy. The only
/// file that imports libopendmarc.
enum DMARCEvaluator {
    /// Debian's `publicsuffix` package.
    static let publicSuffixList = "/usr/share/publicsuffix/public_suffix_list.dat"

    /// Loads the public suffix list once per process (libopendmarc keeps it in a global).
    static let initialize: Bool = {
        var library = OPENDMARC_LIB_T()
        library.tld_type = OPENDMARC_TLD_TYPE_MOZILLA
        withUnsafeMutableBytes(of: &library.tld_source_file) { buffer in
            let path = Array(publicSuffixList.utf8.prefix(buffer.count - 1)) + [0]
            buffer.copyBytes(from: path)
        }
        return opendmarc_policy_library_init(&library) == DMARC_PARSE_OKAY
    }()

    /// The organizational domain (RFC 7489 §3.2), lowercased.
    static func organizationalDomain(of domain: String) -> String {
        _ = Self.initialize
        let lowered = domain.lowercased()
        var input = Array(lowered.utf8) + [0]
        var output = [UInt8](repeating: 0, count: 256)
        guard input.count <= 256, opendmarc_get_tld(&input, &output, output.count) == 0 else { return lowered }
        let organizational = String(decoding: output.prefix { $0 != 0 }, as: UTF8.self)
        return organizational.isEmpty ? lowered : organizational
    }

    /// Blocks (DNS): run it on the blocking pool.
    static func evaluate(
        fromDomain: String?, clientAddress: String, spf: SPFCheck, dkim: [DKIMSignatureCheck], lookups: DNSLookupBudget
    ) -> DMARCCheck {
        guard Self.initialize else {
            return DMARCCheck(result: .temperror, fromDomain: fromDomain ?? "", organizationalDomain: "", policy: nil)
        }
        guard let fromDomain, !fromDomain.isEmpty else {
            // RFC 7489 §6.6.1: no single From: domain to evaluate.
            return DMARCCheck(result: .permerror, fromDomain: "", organizationalDomain: "", policy: nil)
        }
        let organizational = Self.organizationalDomain(of: fromDomain)
        func check(_ result: DMARCResult, _ policy: DMARCPolicy? = nil) -> DMARCCheck {
            DMARCCheck(result: result, fromDomain: fromDomain, organizationalDomain: organizational, policy: policy)
        }

        // RFC 7489 §6.6.3: the From: domain's record, else the organizational domain's.
        var record: String?
        var recordAtOrganizationalDomain = false
        switch Self.record(at: fromDomain, lookups: lookups) {
        case .found(let text): record = text
        case .failure: return check(.temperror)
        case .absent:
            if organizational != fromDomain {
                switch Self.record(at: organizational, lookups: lookups) {
                case .found(let text):
                    record = text
                    recordAtOrganizationalDomain = true
                case .failure: return check(.temperror)
                case .absent: break
                }
            }
        }
        guard let record else { return check(.none) }

        let isIPv6 = clientAddress.contains(":")
        var address = Array(clientAddress.utf8) + [0]
        guard let policy = opendmarc_policy_connect_init(&address, isIPv6 ? DMARC_POLICY_IP_TYPE_IPV6 : DMARC_POLICY_IP_TYPE_IPV4)
        else { return check(.temperror) }
        defer { _ = opendmarc_policy_connect_shutdown(policy) }
        var from = Array(fromDomain.utf8) + [0]
        var recordBytes = Array(record.utf8) + [0]
        var organizationalBytes = Array(organizational.utf8) + [0]
        _ = opendmarc_policy_store_from_domain(policy, &from)
        let parsed = recordAtOrganizationalDomain
            ? opendmarc_policy_store_dmarc(policy, &recordBytes, &from, &organizationalBytes)
            : opendmarc_policy_store_dmarc(policy, &recordBytes, &from, nil)
        guard parsed == DMARC_PARSE_OKAY else { return check(.permerror) }

        if !spf.domain.isEmpty {
            var domain = Array(spf.domain.utf8) + [0]
            var human = Array(spf.result.rawValue.utf8) + [0]
            let outcome: Int32 = switch spf.result {
            case .pass: DMARC_POLICY_SPF_OUTCOME_PASS
            case .fail, .softfail: DMARC_POLICY_SPF_OUTCOME_FAIL
            case .temperror: DMARC_POLICY_SPF_OUTCOME_TMPFAIL
            case .none, .neutral, .permerror: DMARC_POLICY_SPF_OUTCOME_NONE
            }
            let origin = spf.identityKind == "helo" ? DMARC_POLICY_SPF_ORIGIN_HELO : DMARC_POLICY_SPF_ORIGIN_MAILFROM
            _ = opendmarc_policy_store_spf(policy, &domain, outcome, origin, &human)
        }
        for signature in dkim where !signature.domain.isEmpty {
            var domain = Array(signature.domain.utf8) + [0]
            var selector = Array(signature.selector.utf8) + [0]
            var human = Array(signature.result.rawValue.utf8) + [0]
            let outcome: Int32 = switch signature.result {
            case .pass: DMARC_POLICY_DKIM_OUTCOME_PASS
            case .temperror: DMARC_POLICY_DKIM_OUTCOME_TMPFAIL
            case .fail, .policy, .neutral, .permerror: DMARC_POLICY_DKIM_OUTCOME_FAIL
            case .none: DMARC_POLICY_DKIM_OUTCOME_NONE
            }
            _ = opendmarc_policy_store_dkim(policy, &domain, &selector, outcome, &human)
        }

        let published = Self.publishedPolicy(policy, subdomain: recordAtOrganizationalDomain)
        switch opendmarc_get_policy_to_enforce(policy) {
        case DMARC_POLICY_PASS: return check(.pass, published)
        case DMARC_POLICY_REJECT: return check(.fail, .reject)
        case DMARC_POLICY_QUARANTINE: return check(.fail, .quarantine)
        case DMARC_POLICY_NONE: return check(.fail, DMARCPolicy.none)
        case DMARC_POLICY_ABSENT: return check(.none)
        default: return check(.permerror, published)
        }
    }

    /// `p=`, or `sp=` for a subdomain whose record came from its organizational domain.
    private static func publishedPolicy(_ policy: OpaquePointer, subdomain: Bool) -> DMARCPolicy? {
        var value: Int32 = 0
        if subdomain, opendmarc_policy_fetch_sp(policy, &value) == DMARC_PARSE_OKAY, let parsed = Self.policy(value) {
            return parsed
        }
        guard opendmarc_policy_fetch_p(policy, &value) == DMARC_PARSE_OKAY else { return nil }
        return Self.policy(value)
    }

    private static func policy(_ value: Int32) -> DMARCPolicy? {
        switch value {
        case Int32(UInt8(ascii: "n")): DMARCPolicy.none
        case Int32(UInt8(ascii: "q")): .quarantine
        case Int32(UInt8(ascii: "r")): .reject
        default: nil
        }
    }

    private enum RecordLookup {
        case found(String)
        case absent
        case failure
    }

    /// RFC 7489 §6.6.3: exactly one TXT record starting `v=DMARC1` counts; none or several: absent.
    private static func record(at domain: String, lookups: DNSLookupBudget) -> RecordLookup {
        let answer = lookups.lookup("_dmarc.\(domain)", .txt)
        if case .failure = answer { return .failure }
        let records = answer.texts.filter { text in
            let trimmed = text.drop { $0 == " " }
            guard trimmed.hasPrefix("v=DMARC1") else { return false }
            let rest = trimmed.dropFirst("v=DMARC1".count).drop { $0 == " " }
            return rest.isEmpty || rest.hasPrefix(";")
        }
        return records.count == 1 ? .found(records[0]) : .absent
    }
}
