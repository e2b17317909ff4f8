import AWS
import Backends
import Consumer
import Foundation
import Invites
import Logging
import Notifications

/// The consumer of `cis serve` and `cis consume`: its options resolved, its topics and event
/// index chosen from the backend options.
struct ConsumerSetup {
    var configuration: ConsumerConfiguration
    var eventIndex: ConsumerOptions.EventIndexKind
    var backend: BackendOptions.Kind
    var dataDirectory: String
    /// With `--backend local`: the JSONL topics' deduplication window.
    var topicDeduplicationWindow: Int
    /// With `--backend aws`: the route topics.
    var awsTopics: [Route: String]?
    /// With `--event-index dynamodb`: the pipeline's table.
    var eventTable: String?
    var parseLimits: ParseLimits
    /// This binary: messages are parsed in `cis parse-worker` children, one per message in flight.
    var parseWorker: String
    /// `--sender-policy` and the verifier's settings.
    var senderCheck: SenderCheckSetup

    /// Resolves and checks every consumer option (before anything is created on disk).
    init(
        _ options: ConsumerOptions, backendOptions: BackendOptions, parseOptions: ParseOptions,
        senderPolicy: SenderPolicyOptions, senderAuthentication: SenderAuthenticationOptions, settings: Settings
    ) throws(ConfigurationError) {
        self.configuration = try options.configuration(settings)
        self.senderCheck = try SenderCheckSetup(senderPolicy, senderAuthentication, settings: settings)
        self.parseLimits = try parseOptions.limits(settings)
        self.parseWorker = try ParseWorkerExecutable.path()
        self.eventIndex = try options.eventIndexKind(settings)
        self.backend = try backendOptions.kind(settings)
        self.dataDirectory = backendOptions.dataDirectory(settings)
        self.topicDeduplicationWindow = try options.deduplicationWindow(settings)
        if self.eventIndex == .dynamodb {
            guard self.backend == .aws else {
                throw ConfigurationError(source: "--event-index", problem: "'dynamodb' needs --backend aws")
            }
            self.eventTable = try backendOptions.aws.eventTableName(settings)
        }
        if self.backend == .aws {
            self.awsTopics = try backendOptions.aws.topics(settings)
        }
    }

    func makeService(
        backends: BackendSet, logger: Logger, observer: ConsumerActivityObserver? = nil
    ) throws(ConfigurationError) -> ConsumerService {
        let ledger = try self.makeLedger()
        var processor = MessageProcessor(
            objectStore: backends.objectStore, publisher: try self.makeTopics(backends),
            eventIndex: try self.makeEventIndex(backends, ledger: ledger), publishLedger: ledger,
            parsing: self.makeParsing(), senderCheck: try self.senderCheck.make())
        processor.observer = observer
        return ConsumerService(queue: backends.queue, processor: processor, configuration: self.configuration, logger: logger)
    }

    /// A pool of parse workers, one per message in flight. `CIS_PARSE_ISOLATION=in-process` is
    /// for measurement only (`bench/consumer_throughput.sh`): it parses in this process, where
    /// a runaway libical call cannot be stopped, so it is no option and no deployment sets it.
    private func makeParsing() -> any InviteParsing {
        if ProcessInfo.processInfo.environment["CIS_PARSE_ISOLATION"] == "in-process" {
            return InProcessInviteParsing(limits: self.parseLimits)
        }
        return WorkerProcessInviteParsing(
            executable: self.parseWorker, limits: self.parseLimits, workers: self.configuration.concurrency)
    }

    /// The route topics: SNS with `--backend aws`, else `<data-dir>/topics/<route>.jsonl`.
    private func makeTopics(_ backends: BackendSet) throws(ConfigurationError) -> any TopicPublisher {
        if let topics = self.awsTopics, let aws = backends.aws {
            do {
                return SNSTopicPublisher(sns: try aws.sns(), topics: topics)
            } catch {
                throw ConfigurationError(source: "AWS", problem: "\(error)")
            }
        }
        do {
            return try JSONLTopicPublisher(directory: "\(self.dataDirectory)/topics", deduplicationWindow: self.topicDeduplicationWindow)
        } catch {
            throw ConfigurationError(source: "--data-dir", problem: "'\(self.dataDirectory)/topics' is not usable: \(error)")
        }
    }

    /// The publish ledger: the table `published` of `<data-dir>/events.sqlite`, whatever the event index.
    private func makeLedger() throws(ConfigurationError) -> SQLiteEventIndex {
        do {
            return try SQLiteEventIndex(path: "\(self.dataDirectory)/events.sqlite")
        } catch {
            throw ConfigurationError(source: "--data-dir", problem: "the publish ledger cannot use \(self.dataDirectory)/events.sqlite: \(error)")
        }
    }

    private func makeEventIndex(_ backends: BackendSet, ledger: SQLiteEventIndex) throws(ConfigurationError) -> any EventIndex {
        switch self.eventIndex {
        case .local:
            return ledger
        case .none:
            return NoEventIndex()
        case .dynamodb:
            guard let aws = backends.aws, let table = self.eventTable else {
                throw ConfigurationError(source: "--event-index", problem: "'dynamodb' needs --backend aws")
            }
            do {
                return DynamoDBEventIndex(dynamoDB: try aws.dynamoDB(), table: table)
            } catch {
                throw ConfigurationError(source: "AWS", problem: "\(error)")
            }
        }
    }
}
