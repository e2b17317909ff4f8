import BlockingWork
import FileIO
import Foundation
import Notifications

/// The embedded topics: one JSON line per publish appended to `<directory>/<route>.jsonl`.
///
/// A line is `{"Message": <the default message>, "MessageAttributes": {"<name>": {"Type":
/// "String", "Value": ...}}, "MessageId", "Route", "DeduplicationId", "Subject" (or null),
/// "Timestamp"}`, keys sorted (`TopicLine`), attributes as SNS delivers them to subscribers. Lines are
/// appended under an exclusive `flock` of the file, so publishers in several processes never
/// interleave, and are fsync'd before `publish` returns; publishes that arrive together share
/// the fsync. A publish whose deduplication id is on one of the file's lines of the last
/// `deduplicationWindow` bytes appends nothing and returns the earlier message id (see
/// `JSONLTopicFile`), so a publish repeated after a crash is not a second line.
public final class JSONLTopicPublisher: TopicPublisher {
    public let directory: String
    private let batcher: Batcher<TopicAppendBatch>
    private let reopenRequest = ReopenRequest()

    /// Bytes at the end of a topic file whose deduplication ids are remembered (about 200 bytes
    /// of memory per line in it); 0 turns deduplication off.
    public static let defaultDeduplicationWindow = 64 << 20
    public static let deduplicationWindowRange = 0...(1 << 30)

    public init(directory: String, deduplicationWindow: Int = JSONLTopicPublisher.defaultDeduplicationWindow) throws {
        self.directory = directory
        do {
            let created = try FileSystem.makeDirectories(directory)
            for parent in created { try FileSystem.syncDirectory(parent) }
        } catch {
            throw BackendError(.unavailable, backend: "jsonl-topics", operation: "open", message: "\(error)")
        }
        self.batcher = Batcher(
            maximumBatchSize: 512,
            handler: TopicAppendBatch(
                directory: directory, deduplicationWindow: deduplicationWindow, reopenRequest: self.reopenRequest))
    }

    /// Closes the topic files before the next append, which opens each by its path again: a
    /// file moved away (logrotate) gets no more lines, and a new one is created in its place.
    /// Deduplication then starts from the new file; the publish ledger still keeps a message
    /// from being published twice.
    public func reopenFiles() {
        self.reopenRequest.set()
    }

    public func publish(_ message: TopicMessage, to route: Route) async throws -> String {
        let messageId = UUID().uuidString.lowercased()
        let line = TopicLine(
            messageId: messageId, timestamp: ISO8601Timestamp.string(from: Date()), route: route.rawValue,
            deduplicationId: message.deduplicationId, subject: message.subject, message: message.defaultMessage,
            messageAttributes: message.attributes)
        let bytes = line.jsonLine()
        let entry = JSONLTopicFile.Entry(deduplicationId: message.deduplicationId, messageId: messageId, line: bytes)
        return try await withCheckedThrowingContinuation { continuation in
            self.batcher.submit(TopicAppendBatch.Job(route: route, entry: entry, continuation: continuation))
        }
    }

    /// The path of a route's file.
    public func path(for route: Route) -> String {
        "\(self.directory)/\(route.rawValue).jsonl"
    }
}

/// One line of a topic file: the JSON object with its keys sorted, then a newline.
struct TopicLine {
    var messageId: String
    var timestamp: String
    var route: String
    var deduplicationId: String
    var subject: String?
    var message: String
    /// Written as SNS delivers them: `{"<name>": {"Type": "String", "Value": <value>}}`.
    var messageAttributes: [String: String]

    func jsonLine() -> [UInt8] {
        var writer = JSONObjectWriter(reservingCapacity: 256 + self.message.utf8.count * 5 / 4)
        writer.field("DeduplicationId", self.deduplicationId)
        writer.field("Message", self.message)
        writer.field("MessageAttributes") { writer in
            for (name, value) in self.messageAttributes.sorted(by: { $0.key < $1.key }) {
                writer.field(name) { writer in
                    writer.field("Type", "String")
                    writer.field("Value", value)
                }
            }
        }
        writer.field("MessageId", self.messageId)
        writer.field("Route", self.route)
        writer.field("Subject", self.subject)
        writer.field("Timestamp", self.timestamp)
        return writer.finishBytes(appending: UInt8(ascii: "\n"))
    }
}

/// Appends batches of lines in the publisher's batcher: one locked append and one fsync per file per batch.
final class TopicAppendBatch: BatchHandler {
    struct Job: Sendable {
        var route: Route
        var entry: JSONLTopicFile.Entry
        var continuation: CheckedContinuation<String, any Error>
    }

    private let directory: String
    private let deduplicationWindow: Int
    private let reopenRequest: ReopenRequest
    private var files: [Route: JSONLTopicFile] = [:]

    init(directory: String, deduplicationWindow: Int, reopenRequest: ReopenRequest) {
        self.directory = directory
        self.deduplicationWindow = deduplicationWindow
        self.reopenRequest = reopenRequest
    }

    func run(_ jobs: [Job]) {
        if self.reopenRequest.take() {
            self.files = [:]
        }
        var byRoute: [Route: [Job]] = [:]
        for job in jobs { byRoute[job.route, default: []].append(job) }
        for (route, jobs) in byRoute {
            do {
                let messageIds = try self.file(for: route).append(jobs.map(\.entry))
                for (job, messageId) in zip(jobs, messageIds) { job.continuation.resume(returning: messageId) }
            } catch {
                self.files[route] = nil
                for job in jobs { job.continuation.resume(throwing: Self.backendError(error)) }
            }
        }
    }

    func nextWakeUp() -> Date? { nil }

    func refuse(_ jobs: [Job]) {
        for job in jobs {
            job.continuation.resume(throwing: BackendError(.unavailable, backend: "jsonl-topics", operation: "publish", message: "publisher closed"))
        }
    }

    func shutDown() {
        self.files = [:]
    }

    /// The route's file, opened once; its creation is made durable by a directory fsync.
    private func file(for route: Route) throws -> JSONLTopicFile {
        if let file = self.files[route] { return file }
        let file = try JSONLTopicFile(
            path: "\(self.directory)/\(route.rawValue).jsonl", directory: self.directory, deduplicationWindow: self.deduplicationWindow)
        self.files[route] = file
        return file
    }

    private static func backendError(_ error: any Error) -> BackendError {
        BackendError(.unavailable, backend: "jsonl-topics", operation: "publish", message: "\(error)")
    }
}

/// A request to reopen the topic files, set from any thread and taken by the batch handler.
final class ReopenRequest: @unchecked Sendable {
    private let lock = NSLock()
    private var requested = false

    func set() {
        self.lock.withLock { self.requested = true }
    }

    /// Whether a reopen was requested since the last call.
    func take() -> Bool {
        self.lock.withLock {
            defer { self.requested = false }
            return self.requested
        }
    }
}
