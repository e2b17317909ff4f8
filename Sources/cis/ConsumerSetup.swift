import Backends
import Consumer
import Logging

/// The consumer of `cis serve` and `cis consume`: its options resolved, its topics and event
/// index chosen from the backend options.
struct ConsumerSetup {
    var configuration: ConsumerConfiguration
    var eventIndex: ConsumerOptions.EventIndexKind
    var backend: BackendOptions.Kind
    var dataDirectory: String

    /// Resolves and checks every consumer option (before anything is created on disk).
    init(_ options: ConsumerOptions, backendOptions: BackendOptions, settings: Settings) throws(ConfigurationError) {
        self.configuration = try options.configuration(settings)
        self.eventIndex = try options.eventIndexKind(settings)
        self.backend = try backendOptions.kind(settings)
        self.dataDirectory = backendOptions.dataDirectory(settings)
        if self.eventIndex == .dynamodb {
            throw Self.dynamoDBUnavailable
        }
        if self.backend == .aws {
            throw ConfigurationError(source: "--backend", problem: "the consumer's 'aws' topics are not available in this build")
        }
    }

    func makeService(backends: BackendSet, logger: Logger) throws(ConfigurationError) -> ConsumerService {
        let processor = MessageProcessor(
            objectStore: backends.objectStore, publisher: try self.makeTopics(), eventIndex: try self.makeEventIndex())
        return ConsumerService(queue: backends.queue, processor: processor, configuration: self.configuration, logger: logger)
    }

    /// The route topics: `<data-dir>/topics/<route>.jsonl` for the local backend.
    private func makeTopics() throws(ConfigurationError) -> any TopicPublisher {
        do {
            return try JSONLTopicPublisher(directory: "\(self.dataDirectory)/topics")
        } catch {
            throw ConfigurationError(source: "--data-dir", problem: "'\(self.dataDirectory)/topics' is not usable: \(error)")
        }
    }

    private func makeEventIndex() throws(ConfigurationError) -> any EventIndex {
        switch self.eventIndex {
        case .local:
            do {
                return try SQLiteEventIndex(path: "\(self.dataDirectory)/events.sqlite")
            } catch {
                throw ConfigurationError(
                    source: "--event-index", problem: "'local' cannot use \(self.dataDirectory)/events.sqlite: \(error)")
            }
        case .none:
            return NoEventIndex()
        case .dynamodb:
            throw Self.dynamoDBUnavailable
        }
    }

    private static let dynamoDBUnavailable = ConfigurationError(
        source: "--event-index", problem: "'dynamodb' is not available in this build")
}
