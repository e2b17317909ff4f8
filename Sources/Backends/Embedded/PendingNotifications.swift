import Synchronization

/// The journaled notifications handed to `JournaledQueueWriter` and not yet in the queue's
/// table, with a lock of their own: held only to add or take batches, never across a
/// transaction.
final class PendingNotifications: Sendable {
    typealias Batch = (notifications: [JournaledNotification], epoch: UInt64)

    private struct State {
        var waiting: [Batch] = []
        /// Notifications taken for a transaction that has not ended yet.
        var inTransaction = 0
    }
    private let state = Mutex(State())

    func append(_ notifications: [JournaledNotification], epoch: UInt64) {
        self.state.withLock { $0.waiting.append((notifications, epoch)) }
    }

    /// Every waiting batch, oldest first, for one transaction; end it with `taken(applied:)`
    /// or `putBack`.
    func take() -> [Batch] {
        self.state.withLock { state in
            let batches = state.waiting
            state.waiting = []
            state.inTransaction += Self.count(batches)
            return batches
        }
    }

    /// The transaction inserted `batches`.
    func taken(applied batches: [Batch]) {
        self.state.withLock { $0.inTransaction -= Self.count(batches) }
    }

    /// The transaction failed: `batches` wait again, before any added since.
    func putBack(_ batches: [Batch]) {
        self.state.withLock { state in
            state.waiting = batches + state.waiting
            state.inTransaction -= Self.count(batches)
        }
    }

    /// Notifications not in the table yet, waiting or in a transaction.
    var count: Int {
        self.state.withLock { Self.count($0.waiting) + $0.inTransaction }
    }

    private static func count(_ batches: [Batch]) -> Int {
        batches.reduce(0) { $0 + $1.notifications.count }
    }
}
