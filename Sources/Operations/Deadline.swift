import BlockingWork

/// Waits for some work at most `timeout`. At the deadline the work is cancelled but not
/// awaited: a call stuck where cancellation does not reach (a C library, a silent peer) cannot
/// hold a readiness round or an HTTP request.
enum Deadline {
    struct Expired: Error, CustomStringConvertible {
        var timeout: Duration
        var description: String { "no answer within \(self.timeout)" }
    }

    static func run<T: Sendable>(within timeout: Duration, _ work: @escaping @Sendable () async throws -> T) async throws -> T {
        let (outcome, _) = await FirstOutcome.of(
            {
                do {
                    return .success(try await work()) as Result<T, any Error>
                } catch {
                    return .failure(error)
                }
            }, timeout: timeout, otherwise: { .failure(Expired(timeout: timeout)) })
        return try outcome.get()
    }
}
