/// What the consumer knows about who sent one stored message: the SPF, DKIM, DMARC and ARC
/// results, and the conclusions drawn from them. Produced by a `SenderVerifying`; read by the
/// consumer's sender policy and written into the event JSON.
public struct SenderAuthenticationReport: Sendable, Equatable {
    public var spf: SPFCheck
    /// One entry per DKIM-Signature header, in header order (at most the verifier's limit).
    public var dkim: [DKIMSignatureCheck]
    public var dmarc: DMARCCheck
    public var arc: ARCCheck
    /// The `From:` header's address, nil when there is not exactly one.
    public var fromAddress: String?
    /// The `From:` address's domain, lowercased.
    public var fromDomain: String?
    /// The client's IP address as the intake recorded it.
    public var clientAddress: String
    /// True when the `From:` domain passes DMARC, or, where the domain publishes no DMARC
    /// record, when an aligned DKIM signature or an aligned SPF identity passes.
    public var senderAuthenticated: Bool
    /// The domains that passed (DKIM `d=` and the SPF identity's domain), lowercased, no duplicates.
    public var authenticatedDomains: [String]

    public init(
        spf: SPFCheck, dkim: [DKIMSignatureCheck], dmarc: DMARCCheck, arc: ARCCheck,
        fromAddress: String?, fromDomain: String?, clientAddress: String,
        senderAuthenticated: Bool, authenticatedDomains: [String]
    ) {
        self.spf = spf
        self.dkim = dkim
        self.dmarc = dmarc
        self.arc = arc
        self.fromAddress = fromAddress
        self.fromDomain = fromDomain
        self.clientAddress = clientAddress
        self.senderAuthenticated = senderAuthenticated
        self.authenticatedDomains = authenticatedDomains
    }
}

/// SES's verdict status (`receipt.spfVerdict.status` and its siblings).
public enum VerdictStatus: String, Sendable, Equatable, CaseIterable {
    case pass = "PASS"
    case fail = "FAIL"
    case gray = "GRAY"
    case processingFailed = "PROCESSING_FAILED"
}

/// RFC 7208 §2.6 results.
public enum SPFResult: String, Sendable, Equatable, CaseIterable {
    case none, neutral, pass, fail, softfail, temperror, permerror
}

public struct SPFCheck: Sendable, Equatable {
    public var result: SPFResult
    /// `mailfrom` or `helo`: which identity the result is for (RFC 7208 §2.4: HELO when MAIL FROM is null).
    public var identityKind: String
    /// The checked identity: the MAIL FROM address, or `postmaster@<helo>`.
    public var identity: String
    /// The identity's domain, lowercased.
    public var domain: String
    /// The receiver's explanation or the library's diagnosis, for logs and the header comment.
    public var detail: String?

    public init(result: SPFResult, identityKind: String, identity: String, domain: String, detail: String? = nil) {
        self.result = result
        self.identityKind = identityKind
        self.identity = identity
        self.domain = domain
        self.detail = detail
    }
}

/// RFC 8601 §2.7.1 DKIM results.
public enum DKIMResult: String, Sendable, Equatable, CaseIterable {
    case none, pass, fail, policy, neutral, temperror, permerror
}

public struct DKIMSignatureCheck: Sendable, Equatable {
    public var result: DKIMResult
    /// The signing domain (`d=`), lowercased.
    public var domain: String
    /// The selector (`s=`).
    public var selector: String
    /// The algorithm (`a=`), e.g. `rsa-sha256` or `ed25519-sha256`.
    public var algorithm: String
    /// Why it did not pass (body hash mismatch, expired, key not found, ...), nil on pass.
    public var reason: String?

    public init(result: DKIMResult, domain: String, selector: String, algorithm: String, reason: String? = nil) {
        self.result = result
        self.domain = domain
        self.selector = selector
        self.algorithm = algorithm
        self.reason = reason
    }
}

/// RFC 7489 results as RFC 8601 names them.
public enum DMARCResult: String, Sendable, Equatable, CaseIterable {
    case none, pass, fail, temperror, permerror
}

/// The `p=` (or, for a subdomain, `sp=`) policy that applies to the `From:` domain.
public enum DMARCPolicy: String, Sendable, Equatable, CaseIterable {
    case none = "NONE"
    case quarantine = "QUARANTINE"
    case reject = "REJECT"
}

public struct DMARCCheck: Sendable, Equatable {
    public var result: DMARCResult
    /// The `From:` domain, lowercased; empty when the message has no usable `From:`.
    public var fromDomain: String
    /// The organizational domain of `fromDomain` (public suffix list).
    public var organizationalDomain: String
    /// nil when no DMARC record was found.
    public var policy: DMARCPolicy?

    public init(result: DMARCResult, fromDomain: String, organizationalDomain: String, policy: DMARCPolicy?) {
        self.result = result
        self.fromDomain = fromDomain
        self.organizationalDomain = organizationalDomain
        self.policy = policy
    }
}

/// What the message's ARC headers claim (RFC 8617). Trusted only for `--trusted-arc-sealers`.
public struct ARCCheck: Sendable, Equatable {
    /// Whether any `ARC-Seal` header is present.
    public var present: Bool
    /// The `cv=` of the highest-instance seal (`none`, `pass`, `fail`), nil when absent.
    public var chainValidation: String?
    /// The `d=` of each seal, lowercased, lowest instance first.
    public var sealers: [String]
    /// True when the chain is present, claims `pass`, its newest sealer is trusted, and that seal verified.
    public var trusted: Bool

    public init(present: Bool, chainValidation: String?, sealers: [String], trusted: Bool) {
        self.present = present
        self.chainValidation = chainValidation
        self.sealers = sealers
        self.trusted = trusted
    }

    public static let absent = ARCCheck(present: false, chainValidation: nil, sealers: [], trusted: false)
}
