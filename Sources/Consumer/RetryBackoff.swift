/// Exponential backoff: `base * 2^(attempt - 1)`, capped at `maximum`.
public struct RetryBackoff: Sendable, Equatable {
    public var base: Duration
    public var maximum: Duration

    public init(base: Duration, maximum: Duration) {
        precondition(base >= .zero && maximum >= base, "backoff needs 0 <= base <= maximum")
        self.base = base
        self.maximum = maximum
    }

    /// The delay before the next try after `attempt` failed tries (1 for the first failure).
    public func delay(afterAttempt attempt: Int) -> Duration {
        let doublings = min(max(attempt - 1, 0), 30)
        var delay = self.base
        for _ in 0..<doublings {
            delay = delay * 2
            if delay >= self.maximum { return self.maximum }
        }
        return min(delay, self.maximum)
    }

    /// The same delay in whole seconds, rounded up, as a queue visibility timeout takes it.
    public func delaySeconds(afterAttempt attempt: Int) -> Int {
        let components = self.delay(afterAttempt: attempt).components
        return Int(components.seconds) + (components.attoseconds > 0 ? 1 : 0)
    }
}
