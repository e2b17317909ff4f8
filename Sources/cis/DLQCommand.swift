import AWS
import ArgumentParser
import Backends
import Foundation
import Logging
import Notifications

/// `cis dlq list|show|redrive`: the dead letters of the local queue, and redrive from an SQS
/// dead-letter queue with `--backend aws`.
struct DLQCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "Inspect the dead letters of the queue and send them back to it.",
        discussion: """
            A notification becomes a dead letter after --max-receive-count receives that failed \
            permanently or crashed the consumer (transient failures do not count). With --backend \
            local, list, show and redrive work on <data-dir>/queue.sqlite; with --backend aws, \
            redrive moves messages from --dead-letter-queue-url to --queue-url (list them with the \
            SQS console or `aws sqs receive-message`).
            """,
        subcommands: [List.self, Show.self, Redrive.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print one JSON line per dead letter: message_id, receive_count, dead_lettered_at, objects (bucket/key).")

        @OptionGroup(title: "Backend") var backend: BackendOptions

        func run() async throws {
            let queue = try DLQCommand.localQueue(self.backend, command: "list")
            var cursor: SQLiteMessageQueue.DeadLetterCursor?
            repeat {
                let (letters, next) = try await queue.deadLetters(after: cursor, pageSize: DLQCommand.listPageSize)
                for letter in letters { print(DLQCommand.json(letter, includingBody: false)) }
                cursor = next
            } while cursor != nil
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print one dead letter as JSON, with its body.")

        @Argument(help: "The message id (from `cis dlq list`).")
        var id: String

        @OptionGroup(title: "Backend") var backend: BackendOptions

        func run() async throws {
            let queue = try DLQCommand.localQueue(self.backend, command: "show")
            guard let letter = try await queue.deadLetter(messageId: self.id) else {
                throw Startup.fail("no dead letter with message id \(self.id)")
            }
            print(DLQCommand.json(letter, includingBody: true))
        }
    }

    struct Redrive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a dead letter (or --all) back to the queue, visible at once with no receives counted.")

        @Argument(help: "The message id of the dead letter to send back.")
        var id: String?

        @Flag(help: "Send every dead letter back.")
        var all = false

        @OptionGroup(title: "Backend") var backend: BackendOptions

        func validate() throws {
            guard (self.id != nil) != self.all else {
                throw ValidationError("name one message id or give --all")
            }
        }

        func run() async throws {
            let settings = Settings()
            let kind: BackendOptions.Kind
            do {
                kind = try self.backend.kind(settings)
            } catch {
                throw Startup.fail("\(error)", exitCode: Startup.configurationExitCode)
            }
            switch kind {
            case .local:
                let queue = try DLQCommand.localQueue(self.backend, command: "redrive")
                let moved = try await queue.redrive(messageId: self.id)
                try DLQCommand.report(moved.map { ($0, $0) }, wanted: self.id)
            case .aws:
                let redrive = try await self.sqsRedrive(settings)
                let moved: [(deadLetterId: String, newId: String)]
                do {
                    moved = try await redrive.redrive(messageId: self.id)
                } catch {
                    throw Startup.fail("redrive failed: \(error)")
                }
                try DLQCommand.report(moved, wanted: self.id)
            }
        }

        private func sqsRedrive(_ settings: Settings) async throws -> SQSDeadLetterRedrive {
            do {
                let queueURL = try self.backend.aws.queueURL(settings)
                guard let deadLetterURL = try self.backend.aws.deadLetterQueueURL(settings) else {
                    throw ConfigurationError(
                        source: "--dead-letter-queue-url", problem: "required with --backend aws (or set CIS_DEAD_LETTER_QUEUE_URL)")
                }
                let services = try await AWSOptions.services(logger: Logger(label: "cis"))
                let sqs: SQSClient
                do {
                    sqs = try services.sqs()
                } catch {
                    throw ConfigurationError(source: "AWS", problem: "\(error)")
                }
                return SQSDeadLetterRedrive(
                    deadLetters: SQSMessageQueue(sqs: sqs, queueURL: deadLetterURL), queue: SQSMessageQueue(sqs: sqs, queueURL: queueURL))
            } catch {
                throw Startup.fail("\(error)", exitCode: Startup.configurationExitCode)
            }
        }
    }

    /// `<data-dir>/queue.sqlite`, which must exist already.
    static func localQueue(_ options: BackendOptions, command: String) throws -> SQLiteMessageQueue {
        let settings = Settings()
        let kind: BackendOptions.Kind
        do {
            kind = try options.kind(settings)
        } catch {
            throw Startup.fail("\(error)", exitCode: Startup.configurationExitCode)
        }
        guard kind == .local else {
            throw Startup.fail(
                "--backend: 'dlq \(command)' works on the local queue; with aws use 'cis dlq redrive' or the SQS console",
                exitCode: Startup.configurationExitCode)
        }
        let path = "\(options.dataDirectory(settings))/queue.sqlite"
        guard FileManager.default.fileExists(atPath: path) else {
            throw Startup.fail("--data-dir: no queue at \(path)", exitCode: Startup.configurationExitCode)
        }
        do {
            return try SQLiteMessageQueue(path: path)
        } catch {
            throw Startup.fail("--data-dir: cannot open \(path): \(error)", exitCode: Startup.configurationExitCode)
        }
    }

    static func report(_ moved: [(deadLetterId: String, newId: String)], wanted: String?) throws {
        for (deadLetterId, newId) in moved {
            print(deadLetterId == newId ? "redriven \(deadLetterId)" : "redriven \(deadLetterId) as \(newId)")
        }
        if let wanted, moved.isEmpty {
            throw Startup.fail("no dead letter with message id \(wanted)")
        }
        FileHandle.standardError.write(Data("\(moved.count) message(s) sent back to the queue\n".utf8))
    }

    /// Dead letters `list` reads from the queue at a time.
    static let listPageSize = 500

    static func json(_ letter: SQLiteMessageQueue.DeadLetter, includingBody: Bool) -> String {
        var object: [String: Any] = [
            "message_id": letter.messageId,
            "receive_count": letter.receiveCount,
            "dead_lettered_at": ISO8601Timestamp.string(from: letter.deadLetteredAt),
            "objects": Self.objects(in: letter.body),
        ]
        if includingBody { object["body"] = letter.body }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// `bucket/key` of each object the notification names; empty when it is not one.
    private static func objects(in body: String) -> [String] {
        guard case .objectsCreated(let objects) = try? QueueNotification.decode(body) else { return [] }
        return objects.map { "\($0.bucket)/\($0.key)" }
    }
}
