import SenderAuthentication

/// What a message's `ARC-Seal` fields claim (RFC 8617 §4.1.3): presence, the newest seal's
/// `cv=` and each sealer's `d=`. The seals' signatures are not verified (there is no ARC
/// library among the ones cis uses: libopendkim does not verify ARC-Seal), so no chain is
/// trusted: `trusted` stays false even for a `--trusted-arc-sealers` domain, and the
/// claimed result is reported for people to read, never acted on.
enum ARCHeaderReader {
    static let maximumInstances = 50

    static func check(_ headers: MessageHeaderFields, trustedSealers: Set<String>) -> ARCCheck {
        let seals = headers.values(named: "ARC-Seal").prefix(Self.maximumInstances).map(MessageHeaderFields.tags)
        guard !seals.isEmpty else { return .absent }
        let ordered = seals.sorted { (Int($0["i"] ?? "") ?? 0) < (Int($1["i"] ?? "") ?? 0) }
        return ARCCheck(
            present: true,
            chainValidation: ordered.last?["cv"]?.lowercased(),
            sealers: ordered.map { ($0["d"] ?? "").lowercased() },
            trusted: false)
    }
}
