import Backends

/// Why a queue message could not be processed, and whether trying again later may help.
public struct MessageProcessingError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// A backend was unavailable: keep the message and retry after a backoff.
        case transient
        /// The message itself is at fault: keep it so the queue's dead-letter policy takes it.
        case permanent
    }

    public enum Stage: String, Sendable, Equatable {
        case decode
        case fetch
        case index
        case publish
        case parse
        /// Sender verification under `--sender-policy enforce` (a `temperror`).
        case verify
    }

    public var kind: Kind
    public var stage: Stage
    public var reason: String

    public init(_ kind: Kind, stage: Stage, reason: String) {
        self.kind = kind
        self.stage = stage
        self.reason = reason
    }

    /// Classifies an error thrown by a backend: `BackendError` says itself whether a retry
    /// may help; cancellation and unknown errors are treated as transient, since the queue's
    /// receive count still bounds the retries.
    init(backendError error: any Error, stage: Stage) {
        switch error {
        case let error as BackendError:
            self.init(error.isRetryable ? .transient : .permanent, stage: stage, reason: error.description)
        case is CancellationError:
            self.init(.transient, stage: stage, reason: "cancelled")
        default:
            self.init(.transient, stage: stage, reason: String(describing: error))
        }
    }

    public var description: String { "\(self.stage.rawValue) failed (\(self.kind)): \(self.reason)" }
}
