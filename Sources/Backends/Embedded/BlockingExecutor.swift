import Foundation

/// Runs blocking closures one at a time on a dedicated thread and returns their results
/// to async callers, so that file reads and SQLite calls never occupy the cooperative pool.
final class BlockingExecutor: Sendable {
    private let thread: BatchingThread<ClosureRunner>

    init(name: String) {
        self.thread = BatchingThread(name: name, maximumBatchSize: 1, handler: ClosureRunner())
    }

    func run<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            self.thread.submit(
                ClosureRunner.Job(
                    body: { continuation.resume(with: Swift.Result { try body() }) },
                    refuse: { continuation.resume(throwing: $0) }))
        }
    }

    private final class ClosureRunner: BatchHandler {
        struct Job: Sendable {
            var body: @Sendable () -> Void
            var refuse: @Sendable (any Error) -> Void
        }

        func run(_ jobs: [Job]) {
            for job in jobs { job.body() }
        }

        func nextWakeUp() -> Date? { nil }

        func refuse(_ jobs: [Job]) {
            let error = BackendError(.unavailable, backend: "embedded", operation: "run", message: "executor shut down")
            for job in jobs { job.refuse(error) }
        }

        func shutDown() {}
    }
}
