/// The limits of one parse and its deadline: what every stage checks before it goes on.
struct ParseBudget: Sendable {
    var limits: ParseLimits
    private let deadline: ContinuousClock.Instant

    init(limits: ParseLimits, start: ContinuousClock.Instant = .now) {
        self.limits = limits
        self.deadline = start.advanced(by: limits.timeout)
    }

    /// Throws when the deadline has passed; `stage` says, in words, what was being done.
    func checkDeadline(_ stage: String) throws(LimitExceeded) {
        if ContinuousClock.now >= self.deadline {
            throw LimitExceeded(reason: FailureReason.timedOut(seconds: self.limits.timeoutSeconds, stage: stage))
        }
    }
}

/// A message over one of its `ParseLimits`: it goes to the failure route with `reason`.
struct LimitExceeded: Error, Sendable, Equatable {
    var reason: String
}
