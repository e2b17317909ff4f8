/// What processing a queue message achieved; every outcome means the message may be deleted.
public enum ProcessingOutcome: Sendable, Equatable {
    /// Every object was fetched and parsed and every topic message it needed was published.
    case processed(publishedCount: Int)
    /// S3's test event: nothing to publish.
    case testEvent
}
