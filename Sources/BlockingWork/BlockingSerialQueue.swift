import Foundation

/// Runs blocking closures on the pool one at a time, in order, for state that must not be
/// used by two threads at once (a SQLite connection).
public final class BlockingSerialQueue: Sendable {
    private let batcher: Batcher<ClosureRunner>

    public init() {
        self.batcher = Batcher(maximumBatchSize: 1, handler: ClosureRunner())
    }

    public func run<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            self.batcher.submit(
                ClosureRunner.Job(
                    body: { continuation.resume(with: Swift.Result { try body() }) },
                    refuse: { continuation.resume(throwing: CancellationError()) }))
        }
    }

    private final class ClosureRunner: BatchHandler {
        struct Job: Sendable {
            var body: @Sendable () -> Void
            var refuse: @Sendable () -> Void
        }

        func run(_ jobs: [Job]) {
            for job in jobs { job.body() }
        }

        func nextWakeUp() -> Date? { nil }

        func refuse(_ jobs: [Job]) {
            for job in jobs { job.refuse() }
        }

        func shutDown() {}
    }
}
