import ArgumentParser
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
        help: ArgumentHelp("Messages processed at once. Env: CIS_CONSUMER_CONCURRENCY. Default: 4.", valueName: "n"))
    var concurrency: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "What tells a new event (create) from a known one (update): local, dynamodb or none. Env: CIS_EVENT_INDEX. Default: local.",
        valueName: "local|dynamodb|none"))
    var eventIndex: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Seconds a received message stays hidden from other consumers; extended every half timeout while it is processed. Env: CIS_VISIBILITY_TIMEOUT. Default: 60.",
        valueName: "seconds"))
    var visibilityTimeout: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Receives before the local queue moves a message to its dead letters (SQS: the redrive policy's own setting). Env: CIS_MAX_RECEIVE_COUNT. Default: 5.",
        valueName: "n"))
    var maxReceiveCount: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Long-poll wait per receive, 0 to 20 seconds. Env: CIS_POLL_WAIT. Default: 20.", valueName: "seconds"))
    var pollWait: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Hides a message that failed for a transient reason for this many seconds, doubling with each receive up to 900. Env: CIS_RETRY_DELAY. Default: 30.",
        valueName: "seconds"))
    var retryDelay: String?

    func configuration(_ settings: Settings) throws(ConfigurationError) -> ConsumerConfiguration {
        let concurrency = try settings.value(
            self.concurrency, flag: "--consumer-concurrency", variable: "CIS_CONSUMER_CONCURRENCY", default: 4) {
                (text: String) throws(SettingProblem) -> Int in
                try Parse.integer(text, in: 1...64)
            }
        let visibilityTimeout = try settings.value(
            self.visibilityTimeout, flag: "--visibility-timeout", variable: "CIS_VISIBILITY_TIMEOUT", default: 60) {
                (text: String) throws(SettingProblem) -> Int in
                try Parse.integer(text, in: 1...43_200)
            }
        let pollWait = try settings.value(self.pollWait, flag: "--poll-wait", variable: "CIS_POLL_WAIT", default: 20) {
            (text: String) throws(SettingProblem) -> Int in
            try Parse.integer(text, in: 0...20)
        }
        let retryDelay = try settings.value(self.retryDelay, flag: "--retry-delay", variable: "CIS_RETRY_DELAY", default: 30) {
            (text: String) throws(SettingProblem) -> Int in
            try Parse.integer(text, in: 1...900)
        }
        return ConsumerConfiguration(
            concurrency: concurrency, pollWaitTime: pollWait, visibilityTimeout: visibilityTimeout,
            retryBackoff: RetryBackoff(base: .seconds(retryDelay), maximum: .seconds(900)))
    }

    func receiveLimit(_ settings: Settings) throws(ConfigurationError) -> Int {
        try settings.value(self.maxReceiveCount, flag: "--max-receive-count", variable: "CIS_MAX_RECEIVE_COUNT", default: 5) {
            (text: String) throws(SettingProblem) -> Int in
            try Parse.integer(text, in: 1...1000)
        }
    }

    func eventIndexKind(_ settings: Settings) throws(ConfigurationError) -> EventIndexKind {
        try settings.value(self.eventIndex, flag: "--event-index", variable: "CIS_EVENT_INDEX", default: .local, parse: Parse.oneOf)
    }
}

extension Parse {
    /// A whole number within `range`.
    static func integer(_ text: String, in range: ClosedRange<Int>) throws(SettingProblem) -> Int {
        guard let number = Int(text), range.contains(number) else {
            throw SettingProblem("is not a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }
}
