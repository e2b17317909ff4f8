import Foundation

/// The DNS lookups of one message: at most `maximumQueries` queries and `maximumTime` in
/// total, each query at most `queryTimeout`. A lookup past either budget is answered with a
/// failure (a temperror for SPF, DKIM and DMARC) without asking the resolver. Used by one
/// thread at a time (the blocking-pool thread verifying the message).
final class DNSLookupBudget {
    private let resolver: any DNSResolving
    private let queryTimeout: Duration
    let maximumQueries: Int
    private let deadline: ContinuousClock.Instant
    private(set) var queries = 0

    init(resolver: any DNSResolving, queryTimeout: Duration, maximumQueries: Int, maximumTime: Duration) {
        self.resolver = resolver
        self.queryTimeout = queryTimeout
        self.maximumQueries = maximumQueries
        self.deadline = ContinuousClock.now + maximumTime
    }

    func lookup(_ name: String, _ type: DNSRecordType) -> DNSAnswer {
        guard self.queries < self.maximumQueries else {
            return .failure("DNS budget of \(self.maximumQueries) queries per message used up")
        }
        let remaining = self.deadline - ContinuousClock.now
        guard remaining > .zero else {
            return .failure("DNS time budget per message used up")
        }
        self.queries += 1
        return self.resolver.lookup(name, type, timeout: min(self.queryTimeout, remaining))
    }
}
