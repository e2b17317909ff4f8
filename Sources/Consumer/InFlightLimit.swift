/// Counts the messages being processed and lets the poll loop wait until one more fits.
/// Only the poll loop calls `waitForCapacity` and `begin`; processing tasks call `end`.
actor InFlightLimit {
    private let limit: Int
    private var inFlight = 0
    private var capacityWaiter: CheckedContinuation<Void, Never>?

    init(limit: Int) {
        self.limit = limit
    }

    /// Suspends until at least `wanted` (at most `limit`) more messages fit; returns how many
    /// more fit. The poll loop asks for a whole receive batch, so that each receive can return
    /// a full one instead of one message per message finished.
    func waitForCapacity(atLeast wanted: Int = 1) async -> Int {
        let wanted = min(max(wanted, 1), self.limit)
        while self.limit - self.inFlight < wanted {
            await withCheckedContinuation { continuation in
                self.capacityWaiter = continuation
            }
        }
        return self.limit - self.inFlight
    }

    func begin() {
        self.inFlight += 1
    }

    func end() {
        self.inFlight -= 1
        if let waiter = self.capacityWaiter {
            self.capacityWaiter = nil
            waiter.resume()
        }
    }
}
