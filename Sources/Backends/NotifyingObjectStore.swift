import FileIO

/// An object store that can make an object and the queue notification announcing it durable
/// in one write (the embedded store, which journals both with one `fdatasync`). The
/// notification reaches its queue shortly after the put is answered; it survives a crash in between.
public protocol NotifyingObjectStore: ObjectStore {
    /// Whether `submit` and `put(key:body:metadata:notification:)` can be used (a queue is attached).
    var journalsNotifications: Bool { get }

    /// Starts storing the object and the notification body `notification` makes from the
    /// stored object, and returns at once. `completion` is called exactly once, on whichever
    /// thread finished the work: with the stored object only when both are durable.
    /// For callers that are not async tasks (the SMTP listener's event loop): no task hop.
    func submit(
        key: String, body: SegmentedBody, metadata: [String: String], notification: @escaping @Sendable (StoredObject) throws -> String,
        completion: @escaping @Sendable (Result<StoredObject, any Error>) -> Void)
}

extension NotifyingObjectStore {
    /// `submit`, awaited: both are durable when this returns.
    public func put(
        key: String, body: SegmentedBody, metadata: [String: String], notification: @escaping @Sendable (StoredObject) throws -> String
    ) async throws -> StoredObject {
        try await withCheckedThrowingContinuation { continuation in
            self.submit(key: key, body: body, metadata: metadata, notification: notification) { continuation.resume(with: $0) }
        }
    }
}
