import ArgumentParser
import Backends
import Consumer

/// The queue consumer's options, shared by `cis serve` and `cis consume`. Every option also
/// reads an environment variable when the flag is absent.
struct ConsumerOptions: ParsableArguments {
    enum EventIndexKind: String, CaseIterable {
        /// SQLite in the data dir (`events.sqlite`): the consumer records the UIDs it routed to create.
        case local
        /// GetItem on the existing pipeline's table (`--event-table`).
        case dynamodb
        /// No index: SEQUENCE > 0 means update.
        case none
    }

    @Option(
        name: .customLong("consumer-concurrency"), parsing: .unconditional,
        help: ArgumentHelp(
            "Messages parsed at once (parse workers), \(ConsumerConfiguration.concurrencyRange.text); \(ConsumerConfiguration.receiveBatchSize) times as many are in flight, committed together. Env: CIS_CONSUMER_CONCURRENCY. Default: \(ConsumerConfiguration.defaultConcurrency).",
            valueName: "n"))
    var concurrency: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "What tells a new event (create) from a known one (update): local, dynamodb or none. Env: CIS_EVENT_INDEX. Default: local.",
        valueName: "local|dynamodb|none"))
    var eventIndex: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Seconds a received message stays hidden from other consumers, \(ConsumerConfiguration.visibilityTimeoutRange.text); while it is processed its visibility is extended every 1/\(ConsumerConfiguration.visibilityExtensionDivisor) of this. Env: CIS_VISIBILITY_TIMEOUT. Default: \(ConsumerConfiguration.defaultVisibilityTimeout).",
        valueName: "seconds"))
    var visibilityTimeout: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Receives before the local queue moves a message to its dead letters, \(SQLiteMessageQueue.maxReceiveCountRange.text) (SQS: the redrive policy's own setting). Env: CIS_MAX_RECEIVE_COUNT. Default: \(SQLiteMessageQueue.defaultMaxReceiveCount).",
        valueName: "n"))
    var maxReceiveCount: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Long-poll wait per receive, \(ConsumerConfiguration.pollWaitTimeRange.text) seconds. Env: CIS_POLL_WAIT. Default: \(ConsumerConfiguration.defaultPollWaitTime).",
        valueName: "seconds"))
    var pollWait: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Hides a message that failed for a transient reason for this many seconds, doubling with each receive up to \(ConsumerConfiguration.maximumRetryDelay). Env: CIS_RETRY_DELAY. Default: \(ConsumerConfiguration.defaultRetryDelay).",
        valueName: "seconds"))
    var retryDelay: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Seconds the consumer keeps retrying a message after transient failures before it hands it back to the queue, \(ConsumerConfiguration.transientHoldRange.text) (SQS counts every receive; the local queue does not count a hand-back). Env: CIS_RETRY_HOLD. Default: \(ConsumerConfiguration.defaultTransientHoldSeconds).",
        valueName: "seconds"))
    var retryHold: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Local topics: bytes at the end of each topic file whose deduplication ids are not appended again, \(JSONLTopicPublisher.deduplicationWindowRange.text) (0: off). Env: CIS_TOPIC_DEDUPLICATION_WINDOW. Default: \(JSONLTopicPublisher.defaultDeduplicationWindow).",
        valueName: "bytes"))
    var topicDeduplicationWindow: String?

    func configuration(_ settings: Settings) throws(ConfigurationError) -> ConsumerConfiguration {
        let concurrency = try settings.value(
            self.concurrency, flag: "--consumer-concurrency", variable: "CIS_CONSUMER_CONCURRENCY",
            default: ConsumerConfiguration.defaultConcurrency, parse: Parse.integer(in: ConsumerConfiguration.concurrencyRange))
        let visibilityTimeout = try settings.value(
            self.visibilityTimeout, flag: "--visibility-timeout", variable: "CIS_VISIBILITY_TIMEOUT",
            default: ConsumerConfiguration.defaultVisibilityTimeout,
            parse: Parse.integer(in: ConsumerConfiguration.visibilityTimeoutRange))
        let pollWait = try settings.value(
            self.pollWait, flag: "--poll-wait", variable: "CIS_POLL_WAIT", default: ConsumerConfiguration.defaultPollWaitTime,
            parse: Parse.integer(in: ConsumerConfiguration.pollWaitTimeRange))
        let retryDelay = try settings.value(
            self.retryDelay, flag: "--retry-delay", variable: "CIS_RETRY_DELAY", default: ConsumerConfiguration.defaultRetryDelay,
            parse: Parse.integer(in: ConsumerConfiguration.retryDelayRange))
        let retryHold = try settings.value(
            self.retryHold, flag: "--retry-hold", variable: "CIS_RETRY_HOLD", default: ConsumerConfiguration.defaultTransientHoldSeconds,
            parse: Parse.integer(in: ConsumerConfiguration.transientHoldRange))
        return ConsumerConfiguration(
            concurrency: concurrency, pollWaitTime: pollWait, visibilityTimeout: visibilityTimeout,
            retryBackoff: RetryBackoff(base: .seconds(retryDelay), maximum: .seconds(ConsumerConfiguration.maximumRetryDelay)),
            maximumTransientHold: .seconds(retryHold))
    }

    func receiveLimit(_ settings: Settings) throws(ConfigurationError) -> Int {
        try settings.value(
            self.maxReceiveCount, flag: "--max-receive-count", variable: "CIS_MAX_RECEIVE_COUNT",
            default: SQLiteMessageQueue.defaultMaxReceiveCount, parse: Parse.integer(in: SQLiteMessageQueue.maxReceiveCountRange))
    }

    func deduplicationWindow(_ settings: Settings) throws(ConfigurationError) -> Int {
        try settings.value(
            self.topicDeduplicationWindow, flag: "--topic-deduplication-window", variable: "CIS_TOPIC_DEDUPLICATION_WINDOW",
            default: JSONLTopicPublisher.defaultDeduplicationWindow, parse: Parse.integer(in: JSONLTopicPublisher.deduplicationWindowRange))
    }

    func eventIndexKind(_ settings: Settings) throws(ConfigurationError) -> EventIndexKind {
        try settings.value(self.eventIndex, flag: "--event-index", variable: "CIS_EVENT_INDEX", default: .local, parse: Parse.oneOf)
    }
}

extension Parse {
    /// A whole number within `range`.
    static func integer(in range: ClosedRange<Int>) -> (String) throws(SettingProblem) -> Int {
        { (text: String) throws(SettingProblem) -> Int in
            guard let number = Int(text), range.contains(number) else {
                throw SettingProblem("is not a whole number \(range.text)")
            }
            return number
        }
    }
}

extension ClosedRange<Int> {
    /// "from 1 to 64", for help texts and problems.
    var text: String { "from \(self.lowerBound) to \(self.upperBound)" }
}
