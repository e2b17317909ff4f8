/// Counts the messages being processed and lets the poll loop wait until one more fits.
/// Only the poll loop calls `waitForCapacity` and `begin`; processing tasks call `end`.
actor InFlightLimit {
    private let limit: Int
    private var inFlight = 0
    private var capacityWaiter: CheckedContinuation<Void, Never>?

    init(limit: Int) {
        self.limit = limit
    }

    /// Suspends until fewer than `limit` messages are in flight; returns how many more fit.
    func waitForCapacity() async -> Int {
        if self.inFlight >= self.limit {
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
