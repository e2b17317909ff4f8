import Synchronization

/// The result of some work, or a fallback value once a deadline passed.
public enum FirstOutcome {
    /// `work`'s result and true, or `otherwise()` and false when `timeout` passes first. The
    /// work's task is cancelled then but not awaited (a blocking C call in it cannot be
    /// interrupted; it must bound itself).
    public static func of<Value: Sendable>(
        _ work: @escaping @Sendable () async -> Value, timeout: Duration, otherwise: @escaping @Sendable () -> Value
    ) async -> (Value, finished: Bool) {
        let once = ResumeOnce<(Value, finished: Bool)>()
        return await withCheckedContinuation { continuation in
            once.install(continuation)
            let worker = Task {
                once.resume(with: (await work(), true))
            }
            let timer = Task {
                try? await Task.sleep(for: timeout)
                if once.resume(with: (otherwise(), false)) { worker.cancel() }
            }
            once.onResume { timer.cancel() }
        }
    }

    /// Resumes a continuation once, with whichever value comes first.
    private final class ResumeOnce<Value: Sendable>: Sendable {
        private struct State {
            var continuation: CheckedContinuation<Value, Never>?
            var done = false
            var onResume: (@Sendable () -> Void)?
        }
        private let state = Mutex(State())

        func install(_ continuation: CheckedContinuation<Value, Never>) {
            self.state.withLock { $0.continuation = continuation }
        }

        /// Runs `action` once the continuation is resumed (at once if it was).
        func onResume(_ action: @escaping @Sendable () -> Void) {
            let runNow = self.state.withLock { state -> Bool in
                if state.done { return true }
                state.onResume = action
                return false
            }
            if runNow { action() }
        }

        /// Returns false when another value came first.
        @discardableResult
        func resume(with value: Value) -> Bool {
            let taken = self.state.withLock { state -> (CheckedContinuation<Value, Never>, (@Sendable () -> Void)?)? in
                guard !state.done, let continuation = state.continuation else { return nil }
                state.done = true
                state.continuation = nil
                defer { state.onResume = nil }
                return (continuation, state.onResume)
            }
            guard let (continuation, action) = taken else { return false }
            continuation.resume(returning: value)
            action?()
            return true
        }
    }
}
