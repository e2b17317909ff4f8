import AWS

extension BackendError {
    /// An AWS client failure as a backend failure: `.unavailable` when a retry may help
    /// (throttling, 5xx, connection errors, credentials that could not be refreshed),
    /// `.notFound` for missing objects, `.invalidArgument` for requests we built wrong,
    /// `.rejected` for everything else the service refused.
    static func aws(_ error: any Error, backend: String, operation: String) -> BackendError {
        switch error {
        case let error as BackendError:
            return error
        case let error as AWSError:
            let kind: Kind =
                if error.isRetryable { .unavailable }
                else if error.statusCode == 404 || ["NoSuchKey", "NotFound"].contains(error.code) { .notFound }
                else if ["ReceiptHandleIsInvalid", "InvalidParameterValue", "ValidationException", "InvalidParameter"].contains(error.code) { .invalidArgument }
                else { .rejected }
            return BackendError(kind, backend: backend, operation: operation, message: "\(error)")
        case let error as HTTPTransportError:
            let kind: Kind = error.kind == .invalidRequest ? .invalidArgument : .unavailable
            return BackendError(kind, backend: backend, operation: operation, message: "\(error)")
        case let error as AWSConfigurationError:
            return BackendError(.unavailable, backend: backend, operation: operation, message: "\(error)")
        case let error as AWSRequestError:
            return BackendError(.invalidArgument, backend: backend, operation: operation, message: "\(error)")
        default:
            return BackendError(.unavailable, backend: backend, operation: operation, message: "\(error)")
        }
    }
}

/// Runs an AWS call, rethrowing its failure as a `BackendError` (cancellation passes through).
func mappingAWSErrors<T>(backend: String, operation: String, _ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as CancellationError {
        throw error
    } catch {
        throw BackendError.aws(error, backend: backend, operation: operation)
    }
}
