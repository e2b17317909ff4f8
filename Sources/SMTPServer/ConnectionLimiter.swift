import NIOConcurrencyHelpers
import NIOCore

/// Counts open connections, in total and per client network, and new connections per
/// network and minute; shared by all event loops.
final class ConnectionLimiter: Sendable {
    enum Admission: Sendable, Equatable {
        case admitted
        case tooManyConnections
        case tooManyFromNetwork
        case connectionRateExceeded
    }

    struct Limits: Sendable {
        var maximumConnections: Int
        var maximumConnectionsPerNetwork: Int
        /// New connections per network and minute; 0 is no limit.
        var maximumConnectionRate: Int
        var prefixes: ClientNetwork.Prefixes
    }

    private struct Counts {
        var total = 0
        var perNetwork: [ClientNetwork: Int] = [:]
        var rate: ConnectionRateCounter
    }

    let limits: Limits
    private let counts: NIOLockedValueBox<Counts>
    private let now: @Sendable () -> NIODeadline

    init(_ limits: Limits, now: @escaping @Sendable () -> NIODeadline = { .now() }) {
        self.limits = limits
        self.counts = NIOLockedValueBox(Counts(rate: ConnectionRateCounter(limit: limits.maximumConnectionRate)))
        self.now = now
    }

    func network(of address: SocketAddress?) -> ClientNetwork {
        ClientNetwork(address, prefixes: self.limits.prefixes)
    }

    /// Counts the connection if it is within every limit; an admitted connection must be `release`d.
    func admit(_ network: ClientNetwork) -> Admission {
        let now = self.now()
        return self.counts.withLockedValue { counts in
            guard counts.rate.recordAttempt(from: network, at: now) else { return .connectionRateExceeded }
            guard counts.total < self.limits.maximumConnections else { return .tooManyConnections }
            guard counts.perNetwork[network, default: 0] < self.limits.maximumConnectionsPerNetwork else {
                return .tooManyFromNetwork
            }
            counts.total += 1
            counts.perNetwork[network, default: 0] += 1
            return .admitted
        }
    }

    func release(_ network: ClientNetwork) {
        self.counts.withLockedValue { counts in
            counts.total -= 1
            let remaining = counts.perNetwork[network, default: 1] - 1
            counts.perNetwork[network] = remaining > 0 ? remaining : nil
        }
    }

    var openConnections: Int { self.counts.withLockedValue { $0.total } }
}
