import Foundation
import NIOCore
import NIOPosix

/// Group commit on the blocking pool. Jobs queue up under a lock; when the batcher is idle, a
/// submission starts one drain job on `BlockingPool`, which takes everything queued (up to
/// `maximumBatchSize`) as one batch, runs it, and repeats until the queue is empty. Jobs
/// that arrive while a batch runs form the next batch: one fsync or transaction for all of
/// them. There is never more than one drain job, so the handler is used serially.
///
/// A wake-up due within `waitOnThreadLimit` is waited for on the drain job's thread; a later one
/// (a checkpoint, a long poll) gives the thread back to the pool and sets a timer, so that idle
/// batchers never hold pool threads the rest of the process needs.
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
        /// The timer that starts a drain job at a later wake-up, and when it fires.
        private var timer: (task: Scheduled<Void>, at: Date)?
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
            self.timer?.task.cancel()
            self.timer = nil
            self.signalLocked()
            self.condition.unlock()
        }

        /// Makes sure a drain job starts by `wakeUp` (the timer set for an earlier one serves). Called with `condition` locked.
        private func setTimerLocked(for wakeUp: Date) {
            if let timer = self.timer {
                if timer.at <= wakeUp { return }
                timer.task.cancel()
            }
            let delay = TimeAmount.nanoseconds(Int64(max(0, wakeUp.timeIntervalSinceNow) * 1e9))
            let task = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: delay) { [self] in
                self.condition.lock()
                self.timer = nil
                self.woken = true
                self.signalLocked()
                self.condition.unlock()
            }
            self.timer = (task, wakeUp)
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
                    if wakeUp.timeIntervalSinceNow > waitOnThreadLimit {
                        self.draining = false
                        self.setTimerLocked(for: wakeUp)
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

/// A wake-up due sooner than this (seconds) is waited for on the drain job's pool thread.
private let waitOnThreadLimit: TimeInterval = 0.05
