import Foundation
/// The AWS SDKs' "standard" retry mode: a bounded number of attempts, exponential backoff
/// with full jitter, on throttling codes, 5xx, transient codes and connection errors.
public struct RetryPolicy: Sendable {
    /// Attempts in total, the first one included.
    public var maxAttempts: Int
    /// The backoff before attempt n+1 is uniform in [0, baseDelay * 2^(n-1)], capped at `maxBackoff`.
    public var baseDelay: Duration
    public var maxBackoff: Duration

    public init(maxAttempts: Int = 3, baseDelay: Duration = .seconds(1), maxBackoff: Duration = .seconds(20)) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxBackoff = maxBackoff
    }

    public static let standard = RetryPolicy()

    /// Full jitter: a uniformly random delay up to the exponential ceiling.
    public func backoff(afterAttempt attempt: Int) -> Duration {
        let ceiling = min(self.baseDelay * (1 << min(max(attempt - 1, 0), 30)), self.maxBackoff)
        return ceiling * Double.random(in: 0...1)
    }

    static let throttlingCodes: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
        "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
        "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException",
    ]

    static let transientCodes: Set<String> = [
        "RequestTimeout", "RequestTimeoutException", "InternalError", "InternalFailure", "ServiceUnavailable",
        "IDPCommunicationError",
    ]

    static let transientStatusCodes: Set<Int> = [500, 502, 503, 504]

    public static func isRetryable(statusCode: Int, code: String) -> Bool {
        Self.transientStatusCodes.contains(statusCode) || statusCode == 429
            || Self.throttlingCodes.contains(code) || Self.transientCodes.contains(code)
    }
}
