/// The RFC 8601 `Authentication-Results` field for a report. Every value that came from the
/// message or the SMTP session is quoted or cleaned, so nothing a sender wrote can end the
/// field, start a new one, or pose as a result.
extension SenderAuthenticationReport {
    /// `Authentication-Results: <authserv-id>; spf=...; dkim=...; dmarc=...`, folded with
    /// CRLF and a tab before each result when `folded`, on one line otherwise. ARC is
    /// reported only as `arc=none` when no ARC-Seal is present: a chain that is present is
    /// not verified, so no result is claimed for it (its claims are in the report).
    public func authenticationResultsHeader(authservId: String, folded: Bool = true) -> String {
        var results: [String] = []
        var spf = "spf=\(self.spf.result.rawValue)"
        if let detail = self.spf.detail, !detail.isEmpty {
            spf += " (\(AuthenticationResultsText.comment(detail)))"
        }
        let spfProperty = self.spf.identityKind == "helo" ? "smtp.helo" : "smtp.mailfrom"
        let spfValue = self.spf.identityKind == "helo" ? self.spf.domain : self.spf.identity
        spf += " \(spfProperty)=\(AuthenticationResultsText.value(spfValue))"
        results.append(spf)

        if self.dkim.isEmpty {
            results.append("dkim=none")
        }
        for signature in self.dkim {
            var dkim = "dkim=\(signature.result.rawValue)"
            if let reason = signature.reason, !reason.isEmpty {
                dkim += " reason=\(AuthenticationResultsText.quoted(reason))"
            }
            for (property, value) in [("header.d", signature.domain), ("header.s", signature.selector), ("header.a", signature.algorithm)]
            where !value.isEmpty {
                dkim += " \(property)=\(AuthenticationResultsText.value(value))"
            }
            results.append(dkim)
        }

        var dmarc = "dmarc=\(self.dmarc.result.rawValue)"
        if let policy = self.dmarc.policy {
            dmarc += " (p=\(policy.rawValue))"
        }
        if !self.dmarc.fromDomain.isEmpty {
            dmarc += " header.from=\(AuthenticationResultsText.value(self.dmarc.fromDomain))"
        }
        results.append(dmarc)
        if !self.arc.present {
            results.append("arc=none")
        }

        let id = AuthenticationResultsText.value(authservId)
        let separator = folded ? ";\r\n\t" : "; "
        return "Authentication-Results: \(id)" + separator + results.joined(separator: separator)
    }
}

enum AuthenticationResultsText {
    /// RFC 2045 token characters, plus `@` for `local-part@domain` values.
    private static let plain = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`{|}~@")

    /// A property value: as is when it is a token (or addr-spec of token characters), else quoted.
    static func value(_ text: String) -> String {
        let cleaned = Self.printable(text)
        if !cleaned.isEmpty && cleaned.allSatisfy({ Self.plain.contains($0) }) && cleaned.filter({ $0 == "@" }).count <= 1 {
            return cleaned
        }
        return Self.quoted(cleaned)
    }

    static func quoted(_ text: String) -> String {
        let escaped = Self.printable(text).flatMap { $0 == "\"" || $0 == "\\" ? ["\\", $0] : [$0] }
        return "\"" + String(escaped) + "\""
    }

    /// Comment text: no parentheses or backslashes, at most 200 characters.
    static func comment(_ text: String) -> String {
        String(Self.printable(text).filter { $0 != "(" && $0 != ")" && $0 != "\\" }.prefix(200))
    }

    /// Printable ASCII only: control characters (CR, LF, tab) become spaces, the rest is dropped.
    private static func printable(_ text: String) -> String {
        String(text.unicodeScalars.compactMap { scalar -> Character? in
            if scalar.value >= 0x20 && scalar.value < 0x7F { return Character(scalar) }
            if scalar.value < 0x20 || scalar.value == 0x7F { return " " }
            return nil
        }.prefix(512))
    }
}
