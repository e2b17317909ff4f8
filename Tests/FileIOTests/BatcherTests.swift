import BlockingWork
import Foundation
import Testing

@Suite("Batcher, BlockingPool and FirstOutcome")
struct BatcherTests {
    /// Records each batch; a batch holding `failing` fails all its jobs.
    final class RecordingHandler: BatchHandler, @unchecked Sendable {
        // @unchecked: `batches` is guarded by `lock`; `run` itself is serial by contract.
        struct Job: Sendable {
            var value: Int
            var continuation: CheckedContinuation<Int, any Error>
        }

        struct BatchFailed: Error {}

        let lock = NSLock()
        var batches: [[Int]] = []
        var running = 0
        var overlapped = false
        let failing: Int?
        let delay: UInt32

        init(failing: Int? = nil, delayMicroseconds: UInt32 = 20_000) {
            self.failing = failing
            self.delay = delayMicroseconds
        }

        func run(_ jobs: [Job]) {
            self.lock.withLock {
                self.running += 1
                if self.running > 1 { self.overlapped = true }
                self.batches.append(jobs.map(\.value))
            }
            usleep(self.delay)  // an fsync
            let fails = jobs.contains { $0.value == self.failing }
            self.lock.withLock { self.running -= 1 }
            for job in jobs {
                if fails {
                    job.continuation.resume(throwing: BatchFailed())
                } else {
                    job.continuation.resume(returning: job.value * 10)
                }
            }
        }

        func nextWakeUp() -> Date? { nil }
        func refuse(_ jobs: [Job]) { for job in jobs { job.continuation.resume(throwing: CancellationError()) } }
        func shutDown() {}
    }

    static func submit(_ value: Int, to batcher: Batcher<RecordingHandler>) async throws -> Int {
        try await withCheckedThrowingContinuation { continuation in
            batcher.submit(RecordingHandler.Job(value: value, continuation: continuation))
        }
    }

    @Test("concurrent submissions share fewer batches, never overlap, and each caller gets its own answer")
    func groupsConcurrentSubmissions() async throws {
        let handler = RecordingHandler()
        let batcher = Batcher(maximumBatchSize: 512, handler: handler)
        let answers = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for value in 0..<64 {
                group.addTask { (value, try await Self.submit(value, to: batcher)) }
            }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        #expect(answers.count == 64)
        for (value, answer) in answers { #expect(answer == value * 10) }
        let batches = handler.lock.withLock { handler.batches }
        #expect(batches.count < 64, "64 concurrent jobs took \(batches.count) batches")
        #expect(batches.flatMap { $0 }.sorted() == Array(0..<64))
        #expect(!handler.lock.withLock { handler.overlapped })
    }

    @Test("maximumBatchSize 1 runs one job per batch")
    func batchSizeOne() async throws {
        let handler = RecordingHandler(delayMicroseconds: 1000)
        let batcher = Batcher(maximumBatchSize: 1, handler: handler)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for value in 0..<8 { group.addTask { _ = try await Self.submit(value, to: batcher) } }
            try await group.waitForAll()
        }
        #expect(handler.lock.withLock { handler.batches.allSatisfy { $0.count == 1 } && handler.batches.count == 8 })
    }

    @Test("a failing batch fails only its own callers")
    func failingBatch() async throws {
        let handler = RecordingHandler(failing: 0, delayMicroseconds: 200_000)
        let batcher = Batcher(maximumBatchSize: 512, handler: handler)
        // Job 0 is alone in the first batch (nothing else queued yet); the others queue
        // up while it runs and form the next batch.
        let first = Task { try await Self.submit(0, to: batcher) }
        try await Task.sleep(for: .milliseconds(50))
        let rest = try await withThrowingTaskGroup(of: Int.self) { group in
            for value in 1...5 { group.addTask { try await Self.submit(value, to: batcher) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(rest.sorted() == [10, 20, 30, 40, 50])
        await #expect(throws: RecordingHandler.BatchFailed.self) { try await first.value }
        let batches = handler.lock.withLock { handler.batches }
        #expect(batches.first == [0])
        #expect(batches.dropFirst().flatMap { $0 }.sorted() == [1, 2, 3, 4, 5])
    }

    @Test("forEachConcurrently runs every index once and reports each error")
    func forEachConcurrently() {
        let seen = Counter()
        let errors = BlockingPool.forEachConcurrently(100) { index in
            seen.add(index)
            if index % 10 == 3 { throw RecordingHandler.BatchFailed() }
        }
        #expect(seen.values.sorted() == Array(0..<100))
        #expect(errors.count == 100)
        #expect(errors.indices.filter { errors[$0] != nil } == Array(stride(from: 3, to: 100, by: 10)))
    }

    @Test("BlockingPool.run runs off the calling task and returns or throws")
    func run() async throws {
        #expect(try await BlockingPool.run { 6 * 7 } == 42)
        await #expect(throws: RecordingHandler.BatchFailed.self) { try await BlockingPool.run { throw RecordingHandler.BatchFailed() } }
    }

    /// Values other threads add, read by polling (nothing here awaits work that may never run).
    final class Counter: @unchecked Sendable {
        // @unchecked: guarded by `lock`.
        private let lock = NSLock()
        private var storage: [Int] = []
        func add(_ value: Int = 0) { self.lock.withLock { self.storage.append(value) } }
        var values: [Int] { self.lock.withLock { self.storage } }
        var count: Int { self.lock.withLock { self.storage.count } }

        /// Polls until `target` values were added or `seconds` pass; returns the count.
        func wait(for target: Int, seconds: Int) async throws -> Int {
            let deadline = ContinuousClock.now + .seconds(seconds)
            while self.count < target && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            return self.count
        }
    }

    /// Runs each job's callback; an empty batch (a wake-up) is counted and, like a checkpoint,
    /// puts the next wake-up an hour away.
    final class WakingHandler: BatchHandler, @unchecked Sendable {
        // @unchecked: `wakeUps` and `wakeUp` are guarded by `lock`.
        struct Job: Sendable {
            var done: @Sendable () -> Void
        }

        let lock = NSLock()
        var wakeUps = 0
        var wakeUp: Date

        init(wakeUp: Date) {
            self.wakeUp = wakeUp
        }

        func run(_ jobs: [Job]) {
            self.lock.withLock {
                if jobs.isEmpty {
                    self.wakeUps += 1
                    self.wakeUp = Date().addingTimeInterval(3600)
                }
            }
            for job in jobs { job.done() }
        }

        func nextWakeUp() -> Date? { self.lock.withLock { self.wakeUp } }
        func refuse(_ jobs: [Job]) {}
        func shutDown() {}
    }

    @Test("batchers waiting for a late wake-up hold no pool thread: more of them than the pool has threads, and the pool still works")
    func lateWakeUpsHoldNoThread() async throws {
        let handlers = (0..<(BlockingPool.threadCount + 8)).map { _ in WakingHandler(wakeUp: Date().addingTimeInterval(3600)) }
        let batchers = handlers.map { Batcher(maximumBatchSize: 16, handler: $0) }
        let ran = Counter()
        for batcher in batchers { batcher.submit(WakingHandler.Job { ran.add() }) }
        // A drain job waiting on its thread for the hour would leave later batchers no thread.
        #expect(try await ran.wait(for: batchers.count, seconds: 30) == batchers.count)
        let pool = Counter()
        BlockingPool.submit { pool.add() }
        #expect(try await pool.wait(for: 1, seconds: 30) == 1)
        _ = batchers
    }

    @Test("a wake-up past the on-thread wait runs an empty batch when it is due, once")
    func lateWakeUpFires() async throws {
        let handler = WakingHandler(wakeUp: Date().addingTimeInterval(0.4))
        let batcher = Batcher(maximumBatchSize: 16, handler: handler)
        let ran = Counter()
        batcher.submit(WakingHandler.Job { ran.add() })
        #expect(try await ran.wait(for: 1, seconds: 30) == 1)
        #expect(handler.lock.withLock { handler.wakeUps } == 0)
        let deadline = ContinuousClock.now + .seconds(30)
        while handler.lock.withLock({ handler.wakeUps }) == 0 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        try await Task.sleep(for: .milliseconds(300))
        #expect(handler.lock.withLock { handler.wakeUps } == 1)
        _ = batcher
    }

    @Test("work that finishes first gives its value")
    func finishes() async {
        let (value, finished) = await FirstOutcome.of({ 7 }, timeout: .seconds(30), otherwise: { 0 })
        #expect(value == 7)
        #expect(finished)
    }

    @Test("work that outlasts the deadline gives the fallback and is cancelled")
    func deadline() async {
        let (value, finished) = await FirstOutcome.of(
            {
                try? await Task.sleep(for: .seconds(120))
                return Task.isCancelled ? -1 : 7
            }, timeout: .milliseconds(100), otherwise: { 0 })
        #expect(value == 0)
        #expect(!finished)
    }
}
