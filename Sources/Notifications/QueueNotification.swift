/// What a queue message asks the consumer to do, decoded from its body
/// (`QueueNotification.decode`).
public enum QueueNotification: Sendable, Equatable {
    /// An S3 `ObjectCreated:*` event (raw, or inside an SNS envelope): process every object, in order.
    case objectsCreated([ObjectReference])
    /// S3's `s3:TestEvent`, sent when a notification is configured: delete it, publish nothing.
    case testEvent
}
