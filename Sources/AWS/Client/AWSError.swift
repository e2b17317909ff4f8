import Foundation
/// An error response from an AWS service (or a compatible endpoint).
public struct AWSError: Error, Sendable, CustomStringConvertible {
    /// The signing name: `s3`, `sqs`, `sns`, `dynamodb`.
    public var service: String
    public var operation: String
    public var statusCode: Int
    /// The service's error code (`NoSuchKey`, `AWS.SimpleQueueService.NonExistentQueue`, `ThrottlingException`).
    public var code: String
    public var message: String
    public var requestId: String?

    public init(service: String, operation: String, statusCode: Int, code: String, message: String, requestId: String? = nil) {
        self.service = service
        self.operation = operation
        self.statusCode = statusCode
        self.code = code
        self.message = message
        self.requestId = requestId
    }

    /// Whether sending the same request again may succeed (throttling, 5xx, transient errors).
    public var isRetryable: Bool {
        RetryPolicy.isRetryable(statusCode: self.statusCode, code: self.code)
    }

    public var description: String {
        "\(self.service) \(self.operation) failed: HTTP \(self.statusCode) \(self.code): \(self.message)"
            + (self.requestId.map { " (request id \($0))" } ?? "")
            + (self.isRetryable ? " [retryable]" : "")
    }
}

/// A request could not be built from the caller's input (no AWS round trip happened).
public struct AWSRequestError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { self.message }
}
