import Foundation

/// The journaled notifications handed to `JournaledQueueWriter` and not yet in the queue's
/// table, with a lock of their own: held only to add or take batches, never across a
/// transaction.
final class PendingNotifications: @unchecked Sendable {
    typealias Batch = (notifications: [JournaledNotification], epoch: UInt64)

    // @unchecked: both members are used only with `lock` held.
    private let lock = NSLock()
    private var waiting: [Batch] = []
    /// Notifications taken for a transaction that has not ended yet.
    private var inTransaction = 0

    func append(_ notifications: [JournaledNotification], epoch: UInt64) {
        self.lock.withLock { self.waiting.append((notifications, epoch)) }
    }

    /// Every waiting batch, oldest first, for one transaction; end it with `taken(applied:)`
    /// or `putBack`.
    func take() -> [Batch] {
        self.lock.withLock {
            let batches = self.waiting
            self.waiting = []
            self.inTransaction += Self.count(batches)
            return batches
        }
    }

    /// The transaction inserted `batches`.
    func taken(applied batches: [Batch]) {
        self.lock.withLock { self.inTransaction -= Self.count(batches) }
    }

    /// The transaction failed: `batches` wait again, before any added since.
    func putBack(_ batches: [Batch]) {
        self.lock.withLock {
            self.waiting = batches + self.waiting
            self.inTransaction -= Self.count(batches)
        }
    }

    /// Notifications not in the table yet, waiting or in a transaction.
    var count: Int {
        self.lock.withLock { Self.count(self.waiting) + self.inTransaction }
    }

    private static func count(_ batches: [Batch]) -> Int {
        batches.reduce(0) { $0 + $1.notifications.count }
    }
}
