/// The record types the verifiers ask for.
public enum DNSRecordType: Int32, Sendable, CaseIterable {
    case a = 1
    case ptr = 12
    case mx = 15
    case txt = 16
    case aaaa = 28

    var name: String {
        switch self {
        case .a: "A"
        case .ptr: "PTR"
        case .mx: "MX"
        case .txt: "TXT"
        case .aaaa: "AAAA"
        }
    }
}

/// One record of an answer, decoded for the record type that was asked for.
public enum DNSRecordData: Sendable, Equatable {
    /// A (4 bytes) or AAAA (16 bytes), network order.
    case address([UInt8])
    /// TXT: the record's character-strings joined without separator (RFC 7208 §3.3, RFC 6376 §3.6.2.2).
    case text(String)
    /// PTR target or MX exchange, without the trailing dot.
    case name(String)
}

/// What one lookup found.
public enum DNSAnswer: Sendable, Equatable {
    case records([DNSRecordData])
    /// The name exists, with no records of that type.
    case noData
    /// NXDOMAIN.
    case nameError
    /// Timeout, SERVFAIL, a refused query, a bad name, or the message's DNS budget used up.
    case failure(String)

    /// TXT records as strings (empty for anything but records).
    var texts: [String] {
        guard case .records(let records) = self else { return [] }
        return records.compactMap { record in
            if case .text(let text) = record { return text }
            return nil
        }
    }
}

/// The one way the verifiers reach DNS: a resolver shared by the process.
public protocol DNSResolving: Sendable {
    /// Blocks the calling thread (a `BlockingPool` thread) for at most `timeout`.
    func lookup(_ name: String, _ type: DNSRecordType, timeout: Duration) -> DNSAnswer
}
