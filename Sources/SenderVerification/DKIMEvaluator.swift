import COpenDKIM
import SenderAuthentication

/// RFC 6376 verification with libopendkim; its key lookups go through our resolver (the
/// key-lookup hook) under the message's `DNSLookupBudget`. The only file that imports
/// libopendkim.
enum DKIMEvaluator {
    /// What the hooks need for one message (the DKIM handle's user context).
    private final class MessageContext {
        let lookups: DNSLookupBudget
        let maximumSignatures: Int

        init(lookups: DNSLookupBudget, maximumSignatures: Int) {
            self.lookups = lookups
            self.maximumSignatures = maximumSignatures
        }
    }

    /// One library handle for the process; each message gets its own `DKIM` handle.
    /// `nonisolated(unsafe)`: libopendkim's library handle is read-only after this set-up
    /// and documented as shareable between threads.
    nonisolated(unsafe) private static let library: OpaquePointer? = {
        guard let library = dkim_init(nil, nil) else { return nil }
        // FIXCRLF: bare LF line ends count as CRLF. BADSIGHANDLES: a malformed signature
        // still gets a handle, so it is reported rather than dropped.
        var flags: UInt32 = 0
        _ = copendkim_get_uint_option(library, DKIM_OPTS_FLAGS, &flags)
        flags |= UInt32(DKIM_LIBFLAGS_FIXCRLF | DKIM_LIBFLAGS_BADSIGHANDLES)
        _ = copendkim_set_uint_option(library, DKIM_OPTS_FLAGS, flags)
        _ = copendkim_set_uint_option(library, DKIM_OPTS_MINKEYBITS, 1024)
        _ = dkim_set_key_lookup(library) { dkim, signature, buffer, length in
            DKIMEvaluator.lookUpKey(dkim: dkim, signature: signature, buffer: buffer, length: length)
        }
        _ = dkim_set_prescreen(library) { dkim, signatures, count in
            DKIMEvaluator.prescreen(dkim: dkim, signatures: signatures, count: count)
        }
        return library
    }()

    /// One result per DKIM-Signature header, in header order, at most `maximumSignatures`.
    /// Blocks: run it on the blocking pool.
    static func verify(message: [UInt8], maximumSignatures: Int, lookups: DNSLookupBudget) -> [DKIMSignatureCheck] {
        guard let library = Self.library else {
            return [DKIMSignatureCheck(result: .temperror, domain: "", selector: "", algorithm: "", reason: "libopendkim did not initialize")]
        }
        var status: DKIM_STAT = DKIM_STAT_OK
        guard let dkim = dkim_verify(library, "cis", nil, &status) else {
            return [DKIMSignatureCheck(result: .temperror, domain: "", selector: "", algorithm: "", reason: Self.describe(status))]
        }
        defer { _ = dkim_free(dkim) }
        let context = MessageContext(lookups: lookups, maximumSignatures: maximumSignatures)
        return withExtendedLifetime(context) { () -> [DKIMSignatureCheck] in
            _ = dkim_set_user_context(dkim, Unmanaged.passUnretained(context).toOpaque())
            var message = message
            status = message.withUnsafeMutableBufferPointer { bytes in
                dkim_chunk(dkim, bytes.baseAddress, bytes.count)
            }
            if status == DKIM_STAT_OK {
                status = dkim_chunk(dkim, nil, 0)
            }
            if status == DKIM_STAT_NOSIG {
                return []
            }
            if status == DKIM_STAT_OK {
                status = dkim_eom(dkim, nil)
            }
            var signatures: UnsafeMutablePointer<OpaquePointer?>? = nil
            var count: Int32 = 0
            guard dkim_getsiglist(dkim, &signatures, &count) == DKIM_STAT_OK, let signatures, count > 0 else {
                if status == DKIM_STAT_NOSIG || status == DKIM_STAT_OK {
                    return []
                }
                // No per-signature results (the key lookup asked to try again, say): one entry for the message.
                let temporary = [DKIM_STAT_CBTRYAGAIN, DKIM_STAT_KEYFAIL, DKIM_STAT_NORESOURCE].contains(status)
                return [DKIMSignatureCheck(
                    result: temporary ? .temperror : .permerror, domain: "", selector: "", algorithm: "", reason: Self.describe(status))]
            }
            var checks: [DKIMSignatureCheck] = []
            for index in 0..<Int(count) {
                guard let signature = signatures[index] else { continue }
                if dkim_sig_getflags(signature) & UInt32(DKIM_SIGFLAG_IGNORE) != 0 { continue }
                checks.append(Self.check(signature))
            }
            return checks
        }
    }

    private static func check(_ signature: OpaquePointer) -> DKIMSignatureCheck {
        let domain = dkim_sig_getdomain(signature).map { String(cString: $0).lowercased() } ?? ""
        let selector = dkim_sig_getselector(signature).map { String(cString: $0) } ?? ""
        // The a= tag as written: libopendkim sets its parsed algorithm only for a signature it
        // went on to verify (not for an expired one, say).
        var tag: [UInt8] = Array("a".utf8) + [0]
        let algorithmName = dkim_sig_gettagvalue(signature, false, &tag).map { String(cString: $0).lowercased() } ?? "unknown"
        let flags = dkim_sig_getflags(signature)
        let bodyHash = dkim_sig_getbh(signature)
        if flags & UInt32(DKIM_SIGFLAG_PASSED) != 0 && bodyHash == DKIM_SIGBH_MATCH {
            return DKIMSignatureCheck(result: .pass, domain: domain, selector: selector, algorithm: algorithmName)
        }
        let error = dkim_sig_geterror(signature)
        let result: DKIMResult
        var reason = dkim_sig_geterrorstr(error).map { String(cString: $0) } ?? "error \(error)"
        switch error {
        case DKIM_SIGERROR_KEYFAIL:
            result = .temperror
        case DKIM_SIGERROR_OK, DKIM_SIGERROR_BADSIG, DKIM_SIGERROR_EXPIRED, DKIM_SIGERROR_FUTURE,
            DKIM_SIGERROR_TOOLARGE_L, DKIM_SIGERROR_KEYREVOKED, DKIM_SIGERROR_KEYTOOSMALL:
            result = .fail
            if error == DKIM_SIGERROR_OK {
                reason = bodyHash == DKIM_SIGBH_MISMATCH ? "body hash mismatch" : "signature verification failed"
            }
        default:
            result = .permerror
        }
        return DKIMSignatureCheck(result: result, domain: domain, selector: selector, algorithm: algorithmName, reason: reason)
    }

    private static func describe(_ status: DKIM_STAT) -> String {
        dkim_getresultstr(status).map { String(cString: $0) } ?? "DKIM status \(status)"
    }

    private static func context(of dkim: OpaquePointer?) -> MessageContext? {
        guard let dkim, let pointer = dkim_get_user_context(dkim) else { return nil }
        return Unmanaged<MessageContext>.fromOpaque(pointer).takeUnretainedValue()
    }

    /// The prescreen hook: signatures past the limit are ignored (not verified, no DNS).
    private static func prescreen(
        dkim: OpaquePointer?, signatures: UnsafeMutablePointer<OpaquePointer?>?, count: Int32
    ) -> DKIM_CBSTAT {
        guard let context = Self.context(of: dkim), let signatures else { return DKIM_CBSTAT_CONTINUE }
        for index in 0..<Int(count) where index >= context.maximumSignatures {
            if let signature = signatures[index] { dkim_sig_ignore(signature) }
        }
        return DKIM_CBSTAT_CONTINUE
    }

    /// The key-lookup hook: `<s>._domainkey.<d>` TXT through the message's lookups.
    private static func lookUpKey(
        dkim: OpaquePointer?, signature: OpaquePointer?, buffer: UnsafeMutablePointer<UInt8>?, length: Int
    ) -> DKIM_CBSTAT {
        guard let context = Self.context(of: dkim), let signature, let buffer, length > 0,
            let domain = dkim_sig_getdomain(signature), let selector = dkim_sig_getselector(signature)
        else { return DKIM_CBSTAT_ERROR }
        let name = "\(String(cString: selector))._domainkey.\(String(cString: domain))"
        let answer = context.lookups.lookup(name, .txt)
        switch answer {
        case .records:
            guard let key = answer.texts.first else { return DKIM_CBSTAT_NOTFOUND }
            let bytes = Array(key.utf8.prefix(length - 1))
            for (index, byte) in bytes.enumerated() {
                buffer[index] = byte
            }
            buffer[bytes.count] = 0
            return DKIM_CBSTAT_CONTINUE
        case .noData, .nameError:
            return DKIM_CBSTAT_NOTFOUND
        case .failure:
            return DKIM_CBSTAT_TRYAGAIN
        }
    }
}
