import AWS

/// The window within which SQS requests gather into one batch call (`--queue-batch-window`).
public enum SQSBatchWindow {
    /// How long the first request of a batch waits for others: 5 ms is a fraction of one SQS
    /// round trip, and enough for the sessions of a busy listener (or the messages a consumer
    /// finishes together) to share calls.
    public static let defaultMilliseconds = 5
    /// 0 turns batching off (each request its own call); a second is the most a request may wait.
    public static let millisecondsRange = 0...1000
}

/// Gathers the single SQS requests that arrive within a short window into one batch call
/// (`SendMessageBatch`, `DeleteMessageBatch`, `ChangeMessageVisibilityBatch`: up to 10 entries
/// and 256 KiB), so that SQS calls grow with batches, not with callers. Each `submit` still
/// returns only when SQS answered its own entry, and throws only for its own entry:
///
/// - an entry SQS reports in `Failed` with a server fault is sent again in a later batch,
///   after the retry policy's backoff, up to its attempts; a sender fault fails that entry;
/// - a call refused as a whole with 400 (one entry too long, say) is tried again with every
///   entry in a batch of its own, so only the one at fault fails;
/// - a call that fails otherwise (after the client's own retries) fails its entries.
actor SQSRequestBatcher<Entry: Sendable, Answer: Sendable> {
    /// One batch call: an answer per entry, in order; throws when the call as a whole failed.
    typealias Transmit = @Sendable ([Entry]) async throws -> [Result<Answer, AWSError>]

    private struct Pending: Sendable {
        var entry: Entry
        var attempt: Int
        var continuation: CheckedContinuation<Answer, any Error>
    }

    private let window: Duration
    private let retryPolicy: RetryPolicy
    private let bytes: @Sendable (Entry) -> Int
    private let transmit: Transmit
    private var gathering: BatchGathering<Pending>

    /// - Parameter bytes: what an entry counts toward the batch's `maximumBytes`.
    init(
        window: Duration, retryPolicy: RetryPolicy = .standard, maximumEntries: Int = SQSClient.BatchLimits.maximumEntries,
        maximumBytes: Int = SQSClient.BatchLimits.maximumPayloadBytes, bytes: @escaping @Sendable (Entry) -> Int,
        transmit: @escaping Transmit
    ) {
        self.window = window
        self.retryPolicy = retryPolicy
        self.bytes = bytes
        self.transmit = transmit
        self.gathering = BatchGathering(maximumEntries: maximumEntries, maximumBytes: maximumBytes)
    }

    /// Returns SQS's answer for `entry` once its batch call answered it.
    func submit(_ entry: Entry) async throws -> Answer {
        try await withCheckedThrowingContinuation { continuation in
            self.add(Pending(entry: entry, attempt: 1, continuation: continuation))
        }
    }

    private func add(_ pending: Pending) {
        let added = self.gathering.add(pending, bytes: self.bytes(pending.entry))
        for batch in added.ready {
            self.start(batch)
        }
        if let number = added.opened {
            Task { [window = self.window] in
                try? await Task.sleep(for: window)
                self.windowEnded(number: number)
            }
        }
    }

    private func windowEnded(number: Int) {
        if let batch = self.gathering.takeOpen(number: number) {
            self.start(batch)
        }
    }

    private func start(_ batch: [Pending]) {
        Task { await self.send(batch) }
    }

    private nonisolated func send(_ batch: [Pending]) async {
        let results: [Result<Answer, AWSError>]
        do {
            results = try await self.transmit(batch.map(\.entry))
        } catch let error as AWSError where error.statusCode == 400 && batch.count > 1 {
            for pending in batch {
                Task { await self.send([pending]) }
            }
            return
        } catch {
            for pending in batch {
                pending.continuation.resume(throwing: error)
            }
            return
        }
        for (pending, result) in zip(batch, results) {
            switch result {
            case .success(let answer):
                pending.continuation.resume(returning: answer)
            case .failure(let error) where error.isRetryable && pending.attempt < self.retryPolicy.maxAttempts:
                let delay = self.retryPolicy.backoff(afterAttempt: pending.attempt)
                var again = pending
                again.attempt += 1
                Task {
                    try? await Task.sleep(for: delay)
                    await self.add(again)
                }
            case .failure(let error):
                pending.continuation.resume(throwing: error)
            }
        }
        for pending in batch.dropFirst(results.count) {
            pending.continuation.resume(
                throwing: AWSRequestError("the batch call answered \(results.count) of \(batch.count) entries"))
        }
    }
}
