/// A failure of a backend operation, with what a caller needs to decide whether to retry.
public struct BackendError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case notFound
        case invalidArgument
        /// The backend could not be reached or failed in a way a retry may fix.
        case unavailable
        /// The backend refused the request; retrying the same request will not help.
        case rejected
    }

    public var kind: Kind
    public var backend: String
    public var operation: String
    public var message: String

    public init(_ kind: Kind, backend: String, operation: String, message: String) {
        self.kind = kind
        self.backend = backend
        self.operation = operation
        self.message = message
    }

    public var isRetryable: Bool { self.kind == .unavailable }

    public var description: String {
        "\(self.backend) \(self.operation) failed (\(self.kind)): \(self.message)"
    }
}
