/// The `Authentication-Results` header field (RFC 8601) for a report: one line, no folding,
/// every value from the message quoted or stripped so the field cannot be broken out of.
///
///     Authentication-Results: mx.example.org; spf=pass smtp.mailfrom=alice@example.com;
///      dkim=pass header.d=example.com header.s=sel header.a=rsa-sha256;
///      dmarc=pass header.from=example.com
public enum AuthenticationResultsField {
    public static let name = "Authentication-Results"

    /// The whole header field, `Authentication-Results: <value>`.
    public static func field(for report: SenderAuthenticationReport, authservId: String) -> String {
        "\(Self.name): \(Self.value(for: report, authservId: authservId))"
    }

    /// The field's value: the authserv-id and one resinfo per method.
    public static func value(for report: SenderAuthenticationReport, authservId: String) -> String {
        var results: [String] = []
        results.append(Self.spf(report.spf))
        if report.dkim.isEmpty {
            results.append("dkim=none")
        } else {
            results += report.dkim.map(Self.dkim)
        }
        results.append(Self.dmarc(report.dmarc, fromDomain: report.fromDomain))
        if report.arc.present {
            var arc = "arc=\(Self.token(report.arc.chainValidation ?? "none"))"
            if !report.arc.sealers.isEmpty {
                arc += " (sealers " + report.arc.sealers.map(Self.commentText).joined(separator: " ") + (report.arc.trusted ? ", trusted)" : ")")
            }
            results.append(arc)
        }
        return ([Self.token(authservId)] + results).joined(separator: "; ")
    }

    private static func spf(_ spf: SPFCheck) -> String {
        let property = spf.identityKind == "helo" ? "smtp.helo" : "smtp.mailfrom"
        let identity = spf.identityKind == "helo" ? spf.domain : spf.identity
        var text = "spf=\(spf.result.rawValue)"
        if let detail = spf.detail, !detail.isEmpty { text += " (\(Self.commentText(detail)))" }
        if !identity.isEmpty { text += " \(property)=\(Self.propertyValue(identity))" }
        return text
    }

    private static func dkim(_ signature: DKIMSignatureCheck) -> String {
        var text = "dkim=\(signature.result.rawValue)"
        if let reason = signature.reason, !reason.isEmpty { text += " (\(Self.commentText(reason)))" }
        if !signature.domain.isEmpty { text += " header.d=\(Self.propertyValue(signature.domain))" }
        if !signature.selector.isEmpty { text += " header.s=\(Self.propertyValue(signature.selector))" }
        if !signature.algorithm.isEmpty { text += " header.a=\(Self.propertyValue(signature.algorithm))" }
        return text
    }

    private static func dmarc(_ dmarc: DMARCCheck, fromDomain: String?) -> String {
        var text = "dmarc=\(dmarc.result.rawValue)"
        if let policy = dmarc.policy { text += " (p=\(policy.rawValue.lowercased()))" }
        let domain = dmarc.fromDomain.isEmpty ? (fromDomain ?? "") : dmarc.fromDomain
        if !domain.isEmpty { text += " header.from=\(Self.propertyValue(domain))" }
        return text
    }

    /// A property value: as is when it is a plain address or domain, else a quoted-string.
    static func propertyValue(_ text: String) -> String {
        let plain = !text.isEmpty && text.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", ".", "-", "_", "@", "+", "=": true
            default: false
            }
        }
        if plain { return text }
        var quoted = "\""
        for scalar in Self.printable(text).unicodeScalars {
            if scalar == "\"" || scalar == "\\" { quoted += "\\" }
            quoted.unicodeScalars.append(scalar)
        }
        return quoted + "\""
    }

    /// Text inside a comment: parentheses and backslashes escaped, controls dropped.
    static func commentText(_ text: String) -> String {
        var escaped = ""
        for scalar in Self.printable(text).unicodeScalars {
            if scalar == "(" || scalar == ")" || scalar == "\\" { escaped += "\\" }
            escaped.unicodeScalars.append(scalar)
        }
        return escaped
    }

    /// A token (the authserv-id, a result name): letters, digits, `.`, `-` and `_` are kept.
    static func token(_ text: String) -> String {
        let kept = text.unicodeScalars.filter { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", ".", "-", "_": true
            default: false
            }
        }
        return kept.isEmpty ? "unknown" : String(String.UnicodeScalarView(kept.prefix(Self.maximumValueScalars)))
    }

    /// Drops control characters (CR and LF included), so the field stays one line, and cuts
    /// very long values.
    private static func printable(_ text: String) -> String {
        let kept = text.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }
        return String(String.UnicodeScalarView(kept.prefix(Self.maximumValueScalars)))
    }

    /// Longest value copied from the message into the field (a domain name is at most 253).
    static let maximumValueScalars = 512
}
