import CSPF2
import SenderAuthentication

/// RFC 7208 checks with libspf2, its DNS layer answered by our resolver through the
/// message's `DNSLookupBudget`. The only file that imports libspf2.
enum SPFEvaluator {
    /// Once per process, before the first check: libspf2's default message handlers print
    /// on standard output.
    static let initialize: Void = {
        cspf2_quiet_logging()
    }()

    /// The MAIL FROM identity, or `postmaster@<helo>` when MAIL FROM is null (RFC 7208 §2.4).
    /// Blocks: run it on the blocking pool.
    static func check(
        clientAddress: String, helo: String, mailFrom: String, receivingDomain: String, lookups: DNSLookupBudget
    ) -> SPFCheck {
        _ = Self.initialize
        let identityKind = mailFrom.isEmpty ? "helo" : "mailfrom"
        let identity = mailFrom.isEmpty ? "postmaster@\(helo)" : mailFrom
        let domain = Self.domain(of: identity)
        func failed(_ result: SPFResult, _ detail: String) -> SPFCheck {
            SPFCheck(result: result, identityKind: identityKind, identity: identity, domain: domain, detail: detail)
        }

        let layer = UnsafeMutablePointer<SPF_dns_server_t>.allocate(capacity: 1)
        layer.initialize(to: SPF_dns_server_t())
        defer { layer.deallocate() }
        let hook = Unmanaged.passUnretained(lookups)
        layer.pointee.lookup = { layer, domain, type, _ in
            SPFEvaluator.answer(layer: layer, domain: domain, type: type)
        }
        layer.pointee.hook = hook.toOpaque()
        return withExtendedLifetime(lookups) { () -> SPFCheck in
            guard let server = SPF_server_new_dns(layer, 0) else {
                return failed(.temperror, "libspf2: cannot create a server")
            }
            defer { SPF_server_free(server) }
            _ = SPF_server_set_rec_dom(server, receivingDomain)
            guard let request = SPF_request_new(server) else {
                return failed(.temperror, "libspf2: cannot create a request")
            }
            defer { SPF_request_free(request) }
            let addressStatus = clientAddress.contains(":")
                ? SPF_request_set_ipv6_str(request, clientAddress)
                : SPF_request_set_ipv4_str(request, clientAddress)
            guard addressStatus == SPF_E_SUCCESS else {
                return failed(.permerror, "client address '\(clientAddress)' is not an IP address")
            }
            if !helo.isEmpty {
                _ = SPF_request_set_helo_dom(request, helo)
            }
            if SPF_request_set_env_from(request, mailFrom) != 0 {
                return failed(.none, "no usable identity in MAIL FROM '\(mailFrom)' or HELO '\(helo)'")
            }
            var response: UnsafeMutablePointer<SPF_response_t>? = nil
            _ = SPF_request_query_mailfrom(request, &response)
            guard let response else {
                return failed(.temperror, "libspf2 gave no response")
            }
            defer { SPF_response_free(response) }
            var result = Self.result(SPF_response_result(response))
            var detail: String? = nil
            if let comment = SPF_response_get_header_comment(response) {
                detail = String(cString: comment)
            } else if SPF_response_messages(response) > 0, let message = SPF_response_message(response, 0),
                let text = SPF_error_message(message)
            {
                detail = String(cString: text)
            }
            // libspf2 1.2.10 answers a failed lookup of the SPF record itself (our resolver's
            // TRY_AGAIN: a timeout, SERVFAIL or the message's DNS budget) with permerror, or
            // leaves the result unset; RFC 7208 §4.4 makes it a temperror.
            let code = SPF_response_errcode(response)
            let dnsFailed = (0..<SPF_response_messages(response)).contains { index in
                SPF_response_message(response, index).map { SPF_error_code($0) == SPF_E_DNS_ERROR } ?? false
            }
            if dnsFailed && (result == .permerror || SPF_response_result(response) == SPF_RESULT_INVALID) {
                result = .temperror
            } else if SPF_response_result(response) == SPF_RESULT_INVALID {
                result = code == SPF_E_NOT_SPF ? .none : .permerror
            }
            return SPFCheck(result: result, identityKind: identityKind, identity: identity, domain: domain, detail: detail)
        }
    }

    private static func domain(of identity: String) -> String {
        guard let at = identity.lastIndex(of: "@") else { return identity.lowercased() }
        return String(identity[identity.index(after: at)...]).lowercased()
    }

    private static func result(_ result: SPF_result_t) -> SPFResult {
        switch result {
        case SPF_RESULT_PASS: .pass
        case SPF_RESULT_FAIL: .fail
        case SPF_RESULT_SOFTFAIL: .softfail
        case SPF_RESULT_NEUTRAL: .neutral
        case SPF_RESULT_NONE: .none
        case SPF_RESULT_TEMPERROR: .temperror
        default: .permerror
        }
    }

    /// libspf2's `SPF_dns_lookup_t`: never NULL (libspf2 aborts on NULL).
    private static func answer(
        layer: UnsafeMutablePointer<SPF_dns_server_t>?, domain: UnsafePointer<CChar>?, type: ns_type
    ) -> UnsafeMutablePointer<SPF_dns_rr_t>? {
        guard let layer, let domain, let hook = cspf2_dns_server_hook(layer) else { return nil }
        let lookups = Unmanaged<DNSLookupBudget>.fromOpaque(hook).takeUnretainedValue()
        let name = String(cString: domain)
        guard let recordType = DNSRecordType(rawValue: Int32(cspf2_ns_type_value(type))) else {
            return SPF_dns_rr_new_init(layer, domain, type, 0, cspf2_no_data)
        }
        switch lookups.lookup(name, recordType) {
        case .nameError:
            return SPF_dns_rr_new_init(layer, domain, type, 0, cspf2_host_not_found)
        case .noData:
            return SPF_dns_rr_new_init(layer, domain, type, 0, cspf2_no_data)
        case .failure:
            return SPF_dns_rr_new_init(layer, domain, type, 0, cspf2_try_again)
        case .records(let records):
            guard let rr = SPF_dns_rr_new_init(layer, domain, type, 0, cspf2_netdb_success) else { return nil }
            for record in records {
                switch record {
                case .address(let bytes):
                    _ = bytes.withUnsafeBytes { cspf2_rr_append_address(rr, $0.baseAddress, $0.count) }
                case .text(let text), .name(let text):
                    _ = cspf2_rr_append_string(rr, text)
                }
            }
            return rr
        }
    }
}
