import NIOConcurrencyHelpers

/// Counts open connections, in total and per client address, shared by all event loops.
final class ConnectionLimiter: Sendable {
    enum Admission: Sendable, Equatable {
        case admitted
        case tooManyConnections
        case tooManyFromAddress
    }

    private struct Counts {
        var total = 0
        var perAddress: [String: Int] = [:]
    }

    let maximumConnections: Int
    let maximumConnectionsPerAddress: Int
    private let counts = NIOLockedValueBox(Counts())

    init(maximumConnections: Int, maximumConnectionsPerAddress: Int) {
        self.maximumConnections = maximumConnections
        self.maximumConnectionsPerAddress = maximumConnectionsPerAddress
    }

    /// Counts the connection if it is within both limits; an admitted connection must be `release`d.
    func admit(_ address: String) -> Admission {
        self.counts.withLockedValue { counts in
            guard counts.total < self.maximumConnections else { return .tooManyConnections }
            guard counts.perAddress[address, default: 0] < self.maximumConnectionsPerAddress else {
                return .tooManyFromAddress
            }
            counts.total += 1
            counts.perAddress[address, default: 0] += 1
            return .admitted
        }
    }

    func release(_ address: String) {
        self.counts.withLockedValue { counts in
            counts.total -= 1
            let remaining = counts.perAddress[address, default: 1] - 1
            counts.perAddress[address] = remaining > 0 ? remaining : nil
        }
    }
}
