/// A queue message body that is none of the shapes the consumer understands. The message
/// is left on the queue so that its dead-letter policy takes it.
public struct QueueNotificationDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String

    public init(_ reason: String) {
        self.reason = reason
    }

    public var description: String { "undecodable queue message: \(self.reason)" }
}
