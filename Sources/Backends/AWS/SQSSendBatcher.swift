import AWS

/// Sends the notifications that arrive within a short window in one `SendMessageBatch`
/// (up to 10 messages and 256 KiB), so that the intake's SQS calls grow with batches, not
/// with sessions. Each `send` still returns only when SQS accepted its own message, and
/// throws only for its own message:
///
/// - an entry SQS reports in `Failed` with a server fault is sent again in a later batch,
///   after the retry policy's backoff, up to its attempts; a sender fault fails that message;
/// - a call refused as a whole with 400 (one entry too long, say) is tried again with every
///   message in a batch of its own, so only the one at fault fails;
/// - a call that fails otherwise (after the client's own retries) fails its messages.
public actor SQSSendBatcher {
    /// How long the first message of a batch waits for others: 5 ms is a fraction of one SQS
    /// round trip, and enough for the sessions of a busy listener to share calls.
    public static let defaultWindowMilliseconds = 5
    /// 0 turns batching off (each message its own `SendMessage`); a second is the most a
    /// message may wait.
    public static let windowMillisecondsRange = 0...1000

    private struct Pending: Sendable {
        var body: String
        var attempt: Int
        var continuation: CheckedContinuation<String, any Error>
    }

    private let sqs: SQSClient
    private let queueURL: String
    private let window: Duration
    private let retryPolicy: RetryPolicy
    private var gathering = SendBatchGathering<Pending>(
        maximumEntries: SQSClient.SendBatchLimits.maximumEntries, maximumBytes: SQSClient.SendBatchLimits.maximumPayloadBytes)

    public init(sqs: SQSClient, queueURL: String, window: Duration, retryPolicy: RetryPolicy = .standard) {
        self.sqs = sqs
        self.queueURL = queueURL
        self.window = window
        self.retryPolicy = retryPolicy
    }

    /// Returns the message id once SQS accepted `body`.
    public func send(body: String) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            self.add(Pending(body: body, attempt: 1, continuation: continuation))
        }
    }

    private func add(_ pending: Pending) {
        let added = self.gathering.add(pending, bytes: pending.body.utf8.count)
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
        Task { await self.transmit(batch) }
    }

    private nonisolated func transmit(_ batch: [Pending]) async {
        let results: [Result<String, AWSError>]
        do {
            results = try await self.sqs.sendMessageBatch(queueURL: self.queueURL, bodies: batch.map(\.body))
        } catch let error as AWSError where error.statusCode == 400 && batch.count > 1 {
            for pending in batch {
                Task { await self.transmit([pending]) }
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
            case .success(let messageId):
                pending.continuation.resume(returning: messageId)
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
    }
}
