import Foundation

/// The work a `BatchingThread` runs. Every method is called on that thread only,
/// so a handler may keep non-Sendable state (a database connection, open files).
protocol BatchHandler: AnyObject, SendableMetatype {
    associatedtype Job: Sendable

    /// Runs every job that queued up while the previous batch ran (possibly none,
    /// when the thread woke for `nextWakeUp`). Must answer each job it takes.
    func run(_ jobs: [Job])

    /// When the thread should wake even without new jobs (long-poll deadlines); `nil`: no need.
    func nextWakeUp() -> Date?

    /// Answers jobs still queued at shutdown.
    func refuse(_ jobs: [Job])

    /// Called once, last, on the thread: release resources.
    func shutDown()
}

/// One dedicated thread that runs blocking work (fsync, SQLite) off the cooperative
/// pool and off any event loop. Jobs that arrive while a batch runs form the next
/// batch, which is what gives group commit: one fsync or transaction for all of them.
final class BatchingThread<Handler: BatchHandler>: Sendable {
    private let state: LockedState

    /// - Parameter maximumBatchSize: 1 gives one job per batch (no group commit).
    init(name: String, maximumBatchSize: Int, handler: Handler) {
        precondition(maximumBatchSize >= 1)
        let state = LockedState(maximumBatchSize: maximumBatchSize)
        self.state = state
        let thread = Thread { [handlerBox = UncheckedHandlerBox(handler)] in
            state.loop(handlerBox.handler)
        }
        thread.name = name
        thread.start()
    }

    deinit {
        self.state.stop()
    }

    func submit(_ job: Handler.Job) {
        self.state.submit(job)
    }

    /// Wakes the thread so that it reconsiders `nextWakeUp` (e.g. after a task was cancelled).
    func wake() {
        self.state.wake()
    }

    /// The jobs and the stop flag, guarded by one condition variable.
    private final class LockedState: @unchecked Sendable {
        // @unchecked: every stored property is read and written with `condition` locked.
        private let condition = NSCondition()
        private var pending: [Handler.Job] = []
        private var stopped = false
        private var woken = false
        private let maximumBatchSize: Int

        init(maximumBatchSize: Int) {
            self.maximumBatchSize = maximumBatchSize
        }

        func submit(_ job: Handler.Job) {
            self.condition.lock()
            self.pending.append(job)
            self.condition.signal()
            self.condition.unlock()
        }

        func wake() {
            self.condition.lock()
            self.woken = true
            self.condition.signal()
            self.condition.unlock()
        }

        func stop() {
            self.condition.lock()
            self.stopped = true
            self.condition.signal()
            self.condition.unlock()
        }

        func loop(_ handler: Handler) {
            while true {
                self.condition.lock()
                while self.pending.isEmpty && !self.stopped && !self.woken {
                    if let wakeUp = handler.nextWakeUp() {
                        if !self.condition.wait(until: wakeUp) { break }
                    } else {
                        self.condition.wait()
                    }
                }
                self.woken = false
                if self.stopped {
                    let refused = self.pending
                    self.pending = []
                    self.condition.unlock()
                    handler.refuse(refused)
                    handler.shutDown()
                    return
                }
                let count = min(self.pending.count, self.maximumBatchSize)
                let batch = Array(self.pending.prefix(count))
                self.pending.removeFirst(count)
                self.condition.unlock()
                handler.run(batch)
            }
        }
    }

    /// Carries the handler into the thread's closure.
    private struct UncheckedHandlerBox: @unchecked Sendable {
        // @unchecked: the handler is created by `init` and from then on used by the thread alone.
        let handler: Handler
        init(_ handler: Handler) { self.handler = handler }
    }
}
