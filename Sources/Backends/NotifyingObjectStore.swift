import FileIO

/// An object store that can make an object and the queue notification announcing it durable
/// in one write (the embedded store, which journals both with one `fdatasync`). The
/// notification reaches its queue shortly after `put` returns; it survives a crash in between.
public protocol NotifyingObjectStore: ObjectStore {
    /// Whether `put(key:body:metadata:notification:)` can be used (a queue is attached).
    var journalsNotifications: Bool { get }

    /// Stores the object and the notification body `notification` makes from the stored
    /// object; both are durable when this returns.
    func put(
        key: String, body: SegmentedBody, metadata: [String: String], notification: @escaping @Sendable (StoredObject) throws -> String
    ) async throws -> StoredObject
}
