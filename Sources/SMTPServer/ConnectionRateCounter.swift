import NIOCore

/// Counts new connections per client network in fixed windows (Postfix's anvil: one
/// `smtpd_client_connection_rate_limit` per `anvil_rate_time_unit`). A pure value: the
/// caller passes the time, so tests need no clock.
///
/// Refused attempts count too, so a client that keeps hammering stays refused until it
/// pauses for a window. The table is bounded: past `maximumTrackedNetworks`, windows that
/// have ended are dropped, and while the table is still full a network not yet in it is
/// not rate-counted (the concurrency limits still apply to it).
struct ConnectionRateCounter: Sendable {
    /// Connections per window and network; 0 turns counting off.
    let limit: Int
    let window: TimeAmount
    let maximumTrackedNetworks: Int
    private var windows: [ClientNetwork: (start: NIODeadline, count: Int)] = [:]

    static let defaultMaximumTrackedNetworks = 100_000

    init(limit: Int, window: TimeAmount = .minutes(1), maximumTrackedNetworks: Int = Self.defaultMaximumTrackedNetworks) {
        self.limit = limit
        self.window = window
        self.maximumTrackedNetworks = maximumTrackedNetworks
    }

    var trackedNetworks: Int { self.windows.count }

    /// Counts one connection attempt; false when the network is over its limit in this window.
    mutating func recordAttempt(from network: ClientNetwork, at now: NIODeadline) -> Bool {
        guard self.limit > 0 else { return true }
        if var entry = self.windows[network] {
            if now - entry.start >= self.window {
                entry = (now, 0)
            }
            entry.count += 1
            self.windows[network] = entry
            return entry.count <= self.limit
        }
        if self.windows.count >= self.maximumTrackedNetworks {
            self.windows = self.windows.filter { now - $0.value.start < self.window }
            guard self.windows.count < self.maximumTrackedNetworks else { return true }
        }
        self.windows[network] = (now, 1)
        return 1 <= self.limit
    }
}
