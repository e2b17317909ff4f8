/// Which forward paths the server accepts: only the configured addresses. The domain is
/// compared case-insensitively, and so is the local part (as most MTAs do); `user+tag`
/// matches a configured `user` (sub-addressing).
public struct RecipientPolicy: Sendable, Hashable {
    public enum Verdict: Sendable, Hashable {
        case accepted
        /// One of our domains, but no such user (550 5.1.1).
        case unknownUser
        /// Not one of our domains (550 5.7.1).
        case relayDenied
    }

    /// Lower-cased `local@domain` addresses.
    public private(set) var addresses: Set<String>
    /// Lower-cased domains of `addresses`.
    public private(set) var domains: Set<String>

    /// - Parameter addresses: `local@domain` addresses; each must contain `@`.
    public init(addresses: [String]) {
        self.addresses = Set(addresses.map { $0.lowercased() })
        self.domains = Set(
            self.addresses.compactMap { address in
                address.lastIndex(of: "@").map { String(address[address.index(after: $0)...]) }
            })
    }

    public func verdict(for mailbox: Mailbox) -> Verdict {
        let domain = mailbox.domain.lowercased()
        guard self.domains.contains(domain) else { return .relayDenied }
        let localPart = mailbox.localPart.lowercased()
        if self.addresses.contains("\(localPart)@\(domain)") { return .accepted }
        if let plus = localPart.firstIndex(of: "+"), self.addresses.contains("\(localPart[..<plus])@\(domain)") {
            return .accepted
        }
        return .unknownUser
    }
}
