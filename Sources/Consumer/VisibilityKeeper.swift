import Backends
import Logging
import Synchronization

/// Keeps the messages in processing invisible to other consumers: one loop for all of them
/// wakes twice per `interval` and extends the visibility of every message whose visibility
/// was set `interval` ago or earlier (so each is extended within 1.5 intervals), instead of a
/// task and a timer per message.
final class VisibilityKeeper: Sendable {
    struct Entry: Sendable {
        var receiptHandle: String
        var logger: Logger
        var lastSet: ContinuousClock.Instant
    }

    private struct State {
        var entries: [Int: Entry] = [:]
        var nextToken = 0
    }

    let interval: Duration
    private let state = Mutex(State())

    init(interval: Duration) {
        self.interval = interval
    }

    /// Starts keeping `message` invisible (its visibility was set when it was received); returns
    /// the token to `end` with.
    func begin(_ message: QueueMessage, logger: Logger) -> Int {
        let now = ContinuousClock.now
        return self.state.withLock { state in
            let token = state.nextToken
            state.nextToken += 1
            state.entries[token] = Entry(receiptHandle: message.receiptHandle, logger: logger, lastSet: now)
            return token
        }
    }

    func end(_ token: Int) {
        _ = self.state.withLock { $0.entries.removeValue(forKey: token) }
    }

    /// The entries whose visibility was set `interval` before `now` or earlier, marked as set at `now`.
    func due(at now: ContinuousClock.Instant) -> [Entry] {
        self.state.withLock { state in
            var due: [Entry] = []
            for (token, entry) in state.entries where now - entry.lastSet >= self.interval {
                due.append(entry)
                state.entries[token]?.lastSet = now
            }
            return due
        }
    }

    /// Extends what is due until cancelled.
    func run(queue: any MessageQueue, visibilityTimeout: Int) async {
        while true {
            do {
                try await Task.sleep(for: self.interval / 2)
            } catch {
                return
            }
            let due = self.due(at: .now)
            await withTaskGroup(of: Void.self) { group in
                for entry in due {
                    group.addTask {
                        do {
                            try await queue.changeVisibility(receiptHandle: entry.receiptHandle, visibilityTimeout: visibilityTimeout)
                        } catch {
                            entry.logger.warning(
                                "Extending the visibility of a message in processing failed", metadata: ["consumer.error": "\(error)"])
                        }
                    }
                }
            }
        }
    }
}
