/// A counting semaphore for the consumer's fetches and parses; waiters are served in order.
actor ParseSlots {
    private var free: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(_ count: Int) {
        precondition(count >= 1, "at least one parse at a time")
        self.free = count
    }

    func acquire() async {
        if self.free > 0 {
            self.free -= 1
            return
        }
        await withCheckedContinuation { self.waiters.append($0) }
    }

    func release() {
        if self.waiters.isEmpty {
            self.free += 1
        } else {
            self.waiters.removeFirst().resume()
        }
    }
}
