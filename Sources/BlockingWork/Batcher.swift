import Foundation

/// Group commit on the blocking pool. Jobs queue up under a lock; when the batcher is idle, a
/// submission starts one drain job on `BlockingPool`, which takes everything queued (up to
/// `maximumBatchSize`) as one batch, runs it, and repeats until the queue is empty. Jobs
/// that arrive while a batch runs form the next batch: one fsync or transaction for all of
/// them. There is never more than one drain job, so the handler is used serially.
public final class Batcher<Handler: BatchHandler>: Sendable {
    private let state: State

    /// - Parameter maximumBatchSize: 1 gives one job per batch (no group commit).
    public init(maximumBatchSize: Int, handler: Handler) {
        precondition(maximumBatchSize >= 1)
        self.state = State(maximumBatchSize: maximumBatchSize, handler: handler)
    }

    /// Queued jobs are refused and the handler shut down, on the pool.
    deinit {
        self.state.stop()
    }

    public func submit(_ job: Handler.Job) {
        self.state.submit(job)
    }

    /// Makes the handler reconsider `nextWakeUp` (e.g. after a waiting task was cancelled).
    public func wake() {
        self.state.wake()
    }

    /// The queue, the flags and the handler, guarded by one condition variable.
    private final class State: @unchecked Sendable {
        // @unchecked: `pending`, `stopped`, `woken`, `draining` and `shutDownDone` are read
        // and written with `condition` locked; `handler` is used only by the one drain job.
        private let condition = NSCondition()
        private var pending: [Handler.Job] = []
        private var stopped = false
        private var woken = false
        /// A drain job is scheduled or running.
        private var draining = false
        private var shutDownDone = false
        private let maximumBatchSize: Int
        private let handler: Handler

        init(maximumBatchSize: Int, handler: Handler) {
            self.maximumBatchSize = maximumBatchSize
            self.handler = handler
        }

        func submit(_ job: Handler.Job) {
            self.condition.lock()
            self.pending.append(job)
            self.signalLocked()
            self.condition.unlock()
        }

        func wake() {
            self.condition.lock()
            self.woken = true
            self.signalLocked()
            self.condition.unlock()
        }

        func stop() {
            self.condition.lock()
            self.stopped = true
            self.signalLocked()
            self.condition.unlock()
        }

        /// Wakes a drain job waiting for `nextWakeUp`, or starts one. Called with `condition` locked.
        private func signalLocked() {
            if self.draining {
                self.condition.signal()
            } else {
                self.draining = true
                BlockingPool.submit { self.drain() }
            }
        }

        private func drain() {
            self.condition.lock()
            while true {
                while self.pending.isEmpty && !self.stopped && !self.woken {
                    guard let wakeUp = self.handler.nextWakeUp() else {
                        self.draining = false
                        self.condition.unlock()
                        return
                    }
                    if !self.condition.wait(until: wakeUp) { break }
                }
                self.woken = false
                if self.stopped {
                    let refused = self.pending
                    self.pending = []
                    let shutDownNow = !self.shutDownDone
                    self.shutDownDone = true
                    self.draining = false
                    self.condition.unlock()
                    self.handler.refuse(refused)
                    if shutDownNow { self.handler.shutDown() }
                    return
                }
                let count = min(self.pending.count, self.maximumBatchSize)
                let batch = Array(self.pending.prefix(count))
                self.pending.removeFirst(count)
                self.condition.unlock()
                self.handler.run(batch)
                self.condition.lock()
            }
        }
    }
}
