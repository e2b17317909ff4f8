import ArgumentParser
import Consumer
import Foundation
import Invites

/// `cis parse FILE`: what the consumer would do with one message, with no side effects.
struct ParseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract: "Parse a message (.eml), a bare iCalendar file (.ics) or standard input (-) and print the event request JSON with the route it would take.",
        discussion: """
            Nothing is stored or published, and no event index is consulted (index `none`: \
            SEQUENCE > 0 means update). Prints one event JSON line per request on standard output. \
            A message for the failure route prints the failure JSON, writes the reason to standard \
            error and exits with status 2; a message with nothing to do writes why to standard error \
            and exits with status 0. The message is parsed in a child process under the same limits \
            as in the consumer, and killed at --parse-timeout.
            """)

    @Argument(help: "The message or .ics file to parse, or - for standard input.")
    var file: String

    @Option(help: "The SMTP envelope sender, used when the message has neither Reply-To nor From.")
    var envelopeSender: String?

    @Option(help: "The object key to report (its last segment is the request id). Default: the file name.")
    var key: String?

    @Option(help: "The bucket to report.")
    var bucket: String = "local"

    @OptionGroup(title: "Parsing") var parsing: ParseOptions

    func run() async throws {
        let parsing: WorkerProcessInviteParsing
        do {
            parsing = WorkerProcessInviteParsing(
                executable: try ParseWorkerExecutable.path(), limits: try self.parsing.limits(Settings()),
                memoryLimit: try self.parsing.memoryLimit(Settings()))
        } catch {
            throw Startup.fail("\(error)", exitCode: Startup.configurationExitCode)
        }
        let bytes = try self.readInput()
        let input = InviteInput(
            message: bytes, bucket: self.bucket, key: self.key ?? self.defaultKey, envelopeSender: self.envelopeSender)
        let result: InviteParseResult
        do {
            result = try await parsing.parse(input)
        } catch {
            await parsing.shutdown()
            throw Startup.fail("\(error)")
        }
        await parsing.shutdown()
        switch result {
        case .requests(let requests):
            for request in requests {
                print(request.json(route: EventClassifier.route(for: request, isKnown: nil)))
            }
        case .failure(let failure):
            print(failure.json())
            FileHandle.standardError.write(Data("failure: \(failure.reason)\n".utf8))
            throw ExitCode(2)
        case .ignored(let reason):
            FileHandle.standardError.write(Data("ignored: \(reason)\n".utf8))
        }
    }

    private var defaultKey: String {
        self.file == "-" ? "stdin" : URL(fileURLWithPath: self.file).lastPathComponent
    }

    private func readInput() throws -> [UInt8] {
        if self.file == "-" {
            return [UInt8](FileHandle.standardInput.readDataToEndOfFile())
        }
        guard let data = FileManager.default.contents(atPath: self.file) else {
            throw ValidationError("cannot read \(self.file)")
        }
        return [UInt8](data)
    }
}
