import Backends
import Metrics
import Notifications

/// What the consumer did with a stored message, for whoever watches (the status page).
public struct ConsumerActivity: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// One topic message published to the route (a message may publish several).
        case published(Route)
        /// The message holds nothing to publish.
        case ignored
        /// Every publish the message needed succeeded; `duration` is its processing time.
        case completed
        /// A permanent failure: left for the queue's dead-letter policy.
        case deadLettered
    }

    public var kind: Kind
    /// The object keys the queue message names.
    public var objectKeys: [String]
    public var uid: String?
    public var summary: String?
    public var failureReason: String?
    public var duration: Duration?
}

public typealias ConsumerActivityObserver = @Sendable (ConsumerActivity) -> Void

/// The consumer's metrics (swift-metrics API), by route and outcome; never by sender or UID.
public enum ConsumerMetrics {
    /// `# HELP` texts of the consumer's metrics, by name (`DescribedMetricsFactory`).
    public static let helpTexts: [String: String] = [
        "cis_consumer_parse_seconds": "Parsing one message in a parse worker, in seconds.",
        "cis_consumer_processing_seconds": "Receipt to done (deleted, or left for the dead-letter queue) per queue message, in seconds.",
        "cis_consumer_dead_letters_total": "Queue messages left for the dead-letter queue (permanent failures).",
        "cis_consumer_messages_total": "What the consumer did, per topic message, by route and outcome.",
        "cis_consumer_publish_seconds": "Topic publishes by route, in seconds.",
        "cis_consumer_publish_errors_total": "Topic publishes that failed, by route.",
    ]

    static let parseDuration = Timer(label: "cis_consumer_parse_seconds")
    static let processingDuration = Timer(label: "cis_consumer_processing_seconds")
    static let deadLetters = Counter(label: "cis_consumer_dead_letters_total")

    static func parsed(in duration: Duration) {
        Self.parseDuration.record(duration: duration)
    }

    static func message(route: Route?, outcome: String) {
        Counter(
            label: "cis_consumer_messages_total", dimensions: [("route", route?.rawValue ?? "none"), ("outcome", outcome)]
        ).increment()
    }

    static func publish(_ route: Route, duration: Duration, failed: Bool) {
        Timer(label: "cis_consumer_publish_seconds", dimensions: [("route", route.rawValue)]).record(duration: duration)
        if failed { Counter(label: "cis_consumer_publish_errors_total", dimensions: [("route", route.rawValue)]).increment() }
    }
}

extension MessageProcessor {
    func reportPublished(_ route: Route, key: String, uid: String?, summary: String?, failureReason: String? = nil) {
        ConsumerMetrics.message(route: route, outcome: "published")
        self.observer?(
            ConsumerActivity(kind: .published(route), objectKeys: [key], uid: uid, summary: summary, failureReason: failureReason))
    }

    func reportDuplicate(_ route: Route) {
        ConsumerMetrics.message(route: route, outcome: "duplicate")
    }

    func reportIgnored(key: String, reason: String) {
        ConsumerMetrics.message(route: nil, outcome: "ignored")
        self.observer?(ConsumerActivity(kind: .ignored, objectKeys: [key], failureReason: reason))
    }

    /// The queue message was processed (every publish done) or failed for good.
    func reportDone(_ message: QueueMessage, started: ContinuousClock.Instant, failure: MessageProcessingError? = nil) {
        let duration = ContinuousClock.now - started
        ConsumerMetrics.processingDuration.record(duration: duration)
        if let failure {
            ConsumerMetrics.deadLetters.increment()
            ConsumerMetrics.message(route: nil, outcome: "dead_lettered")
            self.observer?(
                ConsumerActivity(
                    kind: .deadLettered, objectKeys: Self.objectKeys(message), failureReason: failure.plainReason,
                    duration: duration))
        } else {
            self.observer?(ConsumerActivity(kind: .completed, objectKeys: Self.objectKeys(message), duration: duration))
        }
    }

    static func objectKeys(_ message: QueueMessage) -> [String] {
        guard case .objectsCreated(let objects)? = try? QueueNotification.decode(message.body) else { return [] }
        return objects.map(\.key)
    }
}

extension MessageProcessingError {
    /// Why the message was given up, for a person: the step in words, then the detail.
    var plainReason: String {
        let step: String
        switch self.stage {
        case .decode: step = "The queue message is not an S3 event notification cis can read"
        case .fetch: step = "The stored message could not be read"
        case .index: step = "The event index or the publish ledger could not be used"
        case .publish: step = "Publishing to the topic failed"
        case .parse: step = "The message could not be parsed"
        case .verify: step = "The sender could not be verified"
        }
        return "\(step) (\(self.reason))."
    }
}
