import Backends
import Consumer
import Logging

/// The consumer of `cis serve` and `cis consume`: its options resolved, its topics and event
/// index chosen from the backend options.
struct ConsumerSetup {
    var configuration: ConsumerConfiguration
    var eventIndex: ConsumerOptions.EventIndexKind

    /// Resolves and checks every consumer option (before anything is created on disk).
    init(_ options: ConsumerOptions, settings: Settings) throws(ConfigurationError) {
        self.configuration = try options.configuration(settings)
        self.eventIndex = try options.eventIndexKind(settings)
    }

    func makeService(
        backends: BackendSet, backendOptions: BackendOptions, settings: Settings, logger: Logger
    ) throws(ConfigurationError) -> ConsumerService {
        let dataDirectory = backendOptions.dataDirectory(settings)
        let processor = MessageProcessor(
            objectStore: backends.objectStore,
            publisher: try self.makeTopics(backendOptions.kind(settings), dataDirectory: dataDirectory),
            eventIndex: try self.makeEventIndex(dataDirectory: dataDirectory))
        return ConsumerService(queue: backends.queue, processor: processor, configuration: self.configuration, logger: logger)
    }

    /// The route topics: `<data-dir>/topics/<route>.jsonl` for the local backend.
    private func makeTopics(_ backend: BackendOptions.Kind, dataDirectory: String) throws(ConfigurationError) -> any TopicPublisher {
        switch backend {
        case .local:
            do {
                return try JSONLTopicPublisher(directory: "\(dataDirectory)/topics")
            } catch {
                throw ConfigurationError(source: "--data-dir", problem: "'\(dataDirectory)/topics' is not usable: \(error)")
            }
        case .aws:
            throw ConfigurationError(source: "--backend", problem: "the consumer's 'aws' topics are not available in this build")
        }
    }

    private func makeEventIndex(dataDirectory: String) throws(ConfigurationError) -> any EventIndex {
        switch self.eventIndex {
        case .local:
            do {
                return try SQLiteEventIndex(path: "\(dataDirectory)/events.sqlite")
            } catch {
                throw ConfigurationError(source: "--event-index", problem: "'local' cannot use \(dataDirectory)/events.sqlite: \(error)")
            }
        case .none:
            return NoEventIndex()
        case .dynamodb:
            throw ConfigurationError(source: "--event-index", problem: "'dynamodb' is not available in this build")
        }
    }
}
