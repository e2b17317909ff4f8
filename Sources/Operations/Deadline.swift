import NIOConcurrencyHelpers

/// Waits for some work at most `timeout`. At the deadline the work is cancelled but not
/// awaited: a call stuck where cancellation does not reach (a C library, a silent peer) cannot
/// hold a readiness round or an HTTP request.
enum Deadline {
    struct Expired: Error, CustomStringConvertible {
        var timeout: Duration
        var description: String { "no answer within \(self.timeout)" }
    }

    static func run<T: Sendable>(within timeout: Duration, _ work: @escaping @Sendable () async throws -> T) async throws -> T {
        let once = NIOLockedValueBox<CheckedContinuation<T, any Error>?>(nil)
        var tasks: [Task<Void, Never>] = []
        defer { for task in tasks { task.cancel() } }
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            once.withLockedValue { $0 = continuation }
            let finish: @Sendable (Result<T, any Error>) -> Void = { result in
                once.withLockedValue { $0.take() }?.resume(with: result)
            }
            tasks.append(Task {
                do {
                    finish(.success(try await work()))
                } catch {
                    finish(.failure(error))
                }
            })
            tasks.append(Task {
                try? await Task.sleep(for: timeout)
                finish(.failure(Expired(timeout: timeout)))
            })
        }
    }
}
