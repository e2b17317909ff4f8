import Backends
import Consumer
import FileIO
import Foundation
import InMemoryLogging
import Invites
import Logging
import Notifications
import ServiceLifecycle
import TestSupport
import Testing

/// The consumer's world on disk, as `cis` lays it out in its data dir: the real embedded
/// object store, queue, topics and event index in a fresh temporary directory.
final class PipelineFixture: Sendable {
    static let bucket = "cis-local"

    private let temporaryDirectory: TemporaryDirectory
    var directory: String { self.temporaryDirectory.path }
    let objectStore: FileSystemObjectStore
    let queue: SQLiteMessageQueue
    let topics: JSONLTopicPublisher
    let eventIndex: any EventIndex
    /// The publish ledger (`events.sqlite`, also the event index with `.local`).
    let ledger: SQLiteEventIndex
    let logs = InMemoryLogHandler()
    let parsing: any InviteParsing
    /// Tests run debug builds on a shared machine: a timeout that only a hostile message reaches.
    static let patientParsing = InProcessInviteParsing(limits: ParseLimits(timeout: .seconds(60)))

    enum Index { case local, none }

    init(maxReceiveCount: Int = 5, index: Index = .local, parsing: any InviteParsing = PipelineFixture.patientParsing) throws {
        self.parsing = parsing
        self.temporaryDirectory = try TemporaryDirectory(prefix: "cis-consumer")
        let directory = self.temporaryDirectory.path
        self.objectStore = try FileSystemObjectStore(directory: directory + "/objects", bucketName: Self.bucket)
        self.queue = try SQLiteMessageQueue(path: directory + "/queue.sqlite", maxReceiveCount: maxReceiveCount)
        self.topics = try JSONLTopicPublisher(directory: directory + "/topics")
        self.ledger = try SQLiteEventIndex(path: directory + "/events.sqlite")
        switch index {
        case .local: self.eventIndex = self.ledger
        case .none: self.eventIndex = NoEventIndex()
        }
    }

    var topicsDirectory: String { self.directory + "/topics" }

    var logger: Logger {
        let handler = self.logs
        var logger = Logger(label: "cis.consumer.test", factory: { _ in handler })
        logger.logLevel = .debug
        return logger
    }

    var processor: MessageProcessor {
        self.processor(publisher: self.topics)
    }

    func processor(publisher: any TopicPublisher) -> MessageProcessor {
        MessageProcessor(objectStore: self.objectStore, publisher: publisher, eventIndex: self.eventIndex, publishLedger: self.ledger, parsing: self.parsing)
    }

    /// What the drop box does for an accepted message: store the object, then queue its S3 event.
    func deliver(_ message: [UInt8], key: String, mailFrom: String = "olivia@example.com") async throws {
        _ = try await self.objectStore.put(key: key, body: SegmentedBody(bytes: message), metadata: [ObjectMetadataKey.envelopeSender: mailFrom])
        _ = try await self.queue.send(body: S3EventBodies.objectCreated(bucket: Self.bucket, key: key))
    }

    /// The lines published to a route so far.
    func published(_ route: Route) throws -> [PublishedLine] {
        let path = self.topics.path(for: route)
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        // Only complete lines: a large line being appended may be read half-written.
        let complete = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        return try complete.map { try JSONDecoder().decode(PublishedLine.self, from: Data($0.utf8)) }
    }

    func publishedCount() throws -> Int {
        try Route.allCases.reduce(0) { $0 + (try self.published($1).count) }
    }

    /// Runs the consumer in a service group while `body` runs, then shuts it down gracefully.
    func withRunningConsumer<T: Sendable>(
        _ configuration: ConsumerConfiguration = PipelineFixture.fastConfiguration,
        _ body: @Sendable () async throws -> T
    ) async throws -> T {
        let service = ConsumerService(queue: self.queue, processor: self.processor, configuration: configuration, logger: self.logger)
        return try await self.withRunning(service, body)
    }

    /// Runs `service` in a service group while `body` runs, then shuts it down gracefully.
    func withRunning<T: Sendable>(_ service: ConsumerService, _ body: @Sendable () async throws -> T) async throws -> T {
        let group = ServiceGroup(services: [service], logger: self.logger)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let result: T
            do {
                result = try await body()
            } catch {
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        }
    }

    /// Short polls and a one-second retry backoff. The visibility timeout stays long enough that a
    /// message is not redelivered while a loaded machine is still processing it; tests that need
    /// a visibility timeout to expire set a short one.
    static let fastConfiguration = ConsumerConfiguration(
        concurrency: 4, pollWaitTime: 1, visibilityTimeout: 30,
        retryBackoff: RetryBackoff(base: .seconds(1), maximum: .seconds(2)),
        receiveFailureBackoff: RetryBackoff(base: .milliseconds(50), maximum: .milliseconds(200)))

    /// Polls `condition` every 50 ms; fails the test when it is still false after `timeout`.
    func eventually(
        _ what: String, timeout: Duration = .seconds(60), sourceLocation: SourceLocation = #_sourceLocation,
        _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        let recentLogs = self.logs.entries.suffix(20).map { "\($0.level) \($0.message) \($0.metadata)" }.joined(separator: "\n")
        Issue.record(
            "timed out after \(timeout) waiting until \(what); the consumer's last log entries:\n\(recentLogs)",
            sourceLocation: sourceLocation)
        throw TimedOut()
    }

    struct TimedOut: Error {}

    func logged(_ message: String) -> Bool {
        self.logs.entries.contains { $0.message.description == message }
    }

    /// Whether `route` has exactly `count` lines and the queue is empty.
    func hasPublished(_ count: Int, to route: Route) async throws -> Bool {
        let published = try self.published(route).count
        let queueIsEmpty = try await self.queueIsEmpty()
        return published == count && queueIsEmpty
    }

    /// Whether `count` lines were published over all routes and the queue is empty.
    func hasPublishedInAll(_ count: Int) async throws -> Bool {
        let published = try self.publishedCount()
        let queueIsEmpty = try await self.queueIsEmpty()
        return published == count && queueIsEmpty
    }

    /// Whether the queue holds nothing: no visible, in-flight or dead-lettered message.
    func queueIsEmpty() async throws -> Bool {
        try await self.queue.statistics() == SQLiteMessageQueue.Statistics(visible: 0, inFlight: 0, deadLetters: 0)
    }
}

/// One line of `<data-dir>/topics/<route>.jsonl`.
struct PublishedLine: Decodable, Sendable {
    struct Attribute: Decodable, Sendable {
        var Value: String
    }

    var Message: String
    var MessageAttributes: [String: Attribute]
    var Route: String
    var DeduplicationId: String

    var event: PublishedEvent {
        get throws { try JSONDecoder().decode(PublishedEvent.self, from: Data(self.Message.utf8)) }
    }
}

/// The event JSON fields the tests check.
struct PublishedEvent: Decodable, Sendable {
    var method: String?
    var uid: String
    var original_uid: String?
    var sequence: Int?
    var organizer: String?
    var dtstart: String?
    var dtend: String?
    var mailto: String?
    var return_path: String?
    var reason: String?
    var bucket: String?
    var key: String?
}
