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
    /// With `--event-index dynamodb`: the publish ledger's table and retention, shared by every consumer.
    var publishLedgerTable: String?
    var publishLedgerRetentionDays: Int
    var parseLimits: ParseLimits
    /// Bytes of memory each parse worker may use.
    var parseMemoryLimit: Int
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
        self.parseMemoryLimit = try parseOptions.memoryLimit(settings)
        self.parseWorker = try ParseWorkerExecutable.path()
        self.eventIndex = try options.eventIndexKind(settings)
        self.backend = try backendOptions.kind(settings)
        self.dataDirectory = backendOptions.dataDirectory(settings)
        self.topicDeduplicationWindow = try options.deduplicationWindow(settings)
        self.publishLedgerRetentionDays = try backendOptions.aws.publishLedgerRetentionDays(settings)
        if self.eventIndex == .dynamodb {
            guard self.backend == .aws else {
                throw ConfigurationError(source: "--event-index", problem: "'dynamodb' needs --backend aws")
            }
            let eventTable = try backendOptions.aws.eventTableName(settings)
            self.eventTable = eventTable
            self.publishLedgerTable = try backendOptions.aws.publishLedger(settings, eventTable: eventTable).table
        }
        if self.backend == .aws {
            self.awsTopics = try backendOptions.aws.topics(settings)
        }
    }

    func makeService(
        backends: BackendSet, logger: Logger, observer: ConsumerActivityObserver? = nil, reloads: ReloadActions? = nil
    ) throws(ConfigurationError) -> ConsumerService {
        let (eventIndex, ledger) = try self.makeEventIndexAndLedger(backends)
        let topics = try self.makeTopics(backends)
        if let jsonl = topics as? JSONLTopicPublisher {
            reloads?.add("topics") {
                jsonl.reopenFiles()
                return "reopened in \(jsonl.directory)"
            }
        }
        var processor = MessageProcessor(
            objectStore: backends.objectStore, publisher: topics,
            eventIndex: eventIndex, publishLedger: ledger, parsing: self.makeParsing(),
            senderCheck: try self.senderCheck.make(), maximumConcurrentParses: self.configuration.concurrency)
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
            executable: self.parseWorker, limits: self.parseLimits, workers: self.configuration.concurrency,
            memoryLimit: self.parseMemoryLimit)
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

    /// The event index and the publish ledger: with `--event-index dynamodb` both in DynamoDB
    /// (the ledger shared by every consumer of the queue), else the ledger is the table
    /// `published` of `<data-dir>/events.sqlite`, local to this host.
    private func makeEventIndexAndLedger(_ backends: BackendSet) throws(ConfigurationError) -> (any EventIndex, any PublishLedger) {
        switch self.eventIndex {
        case .dynamodb:
            guard let aws = backends.aws, let eventTable = self.eventTable, let ledgerTable = self.publishLedgerTable else {
                throw ConfigurationError(source: "--event-index", problem: "'dynamodb' needs --backend aws")
            }
            do {
                let dynamoDB = try aws.dynamoDB()
                return (
                    DynamoDBEventIndex(dynamoDB: dynamoDB, table: eventTable),
                    DynamoDBPublishLedger(dynamoDB: dynamoDB, table: ledgerTable, retention: .seconds(self.publishLedgerRetentionDays * 86_400))
                )
            } catch {
                throw ConfigurationError(source: "AWS", problem: "\(error)")
            }
        case .local:
            let index = try self.makeLocalIndex()
            return (index, index)
        case .none:
            return (NoEventIndex(), try self.makeLocalIndex())
        }
    }

    private func makeLocalIndex() throws(ConfigurationError) -> SQLiteEventIndex {
        do {
            return try SQLiteEventIndex(path: "\(self.dataDirectory)/events.sqlite")
        } catch {
            throw ConfigurationError(source: "--data-dir", problem: "the publish ledger cannot use \(self.dataDirectory)/events.sqlite: \(error)")
        }
    }
}
