import Consumer
import Foundation
import Invites
import Testing

/// The parent side of `cis parse-worker`: the request and answer it exchanges, the deadline
/// it enforces by killing the child, and how it reads the way a child ended.
@Suite("Parse worker processes", .timeLimit(.minutes(2)))
struct WorkerProcessInviteParsingTests {
    static let input = InviteInput(
        message: InviteMessages.request(uid: "worker@example.com", sequence: 2), bucket: "cis-local", key: "incoming/msg-worker",
        envelopeSender: "olivia@example.com")

    /// A child program written for one test: a real process in place of the parser.
    static func script(_ body: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cis-worker-\(UUID().uuidString).sh").path
        // Written through a close-on-exec descriptor: a worker another test starts meanwhile
        // must not inherit it open for writing, or executing the script fails with ETXTBSY.
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o755)
        guard descriptor >= 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
        let text = Array("#!/bin/sh\n\(body)\n".utf8)
        let written = text.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        close(descriptor)
        guard written == text.count else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
        return path
    }

    /// The `cis` binary built next to the test bundle, when there is one.
    static var cisBinary: String? {
        guard let me = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        var directory = URL(fileURLWithPath: me).deletingLastPathComponent()
        if directory.lastPathComponent == "MacOS" || directory.pathExtension == "xctest" { directory.deleteLastPathComponent() }
        let candidate = directory.appendingPathComponent("cis").path
        return FileManager.default.isExecutableFile(atPath: candidate) ? candidate : nil
    }

    @Test func requestAndAnswerRoundTrip() throws {
        let limits = ParseLimits(timeout: .milliseconds(1500), maximumAttendees: 7)
        let (input, decodedLimits) = try ParseWorkerProtocol.decodeRequest(ParseWorkerProtocol.request(Self.input, limits: limits))
        #expect(input.message == Self.input.message && input.key == Self.input.key && input.envelopeSender == "olivia@example.com")
        #expect(decodedLimits == limits)
        let result = InviteParser.parse(input, limits: limits)
        let requests = try #require(try ParseWorkerProtocol.decodeResponse(ParseWorkerProtocol.response(result)).requestsForTest)
        #expect(requests == result.requestsForTest)
        #expect(requests.first?.sequence == 2)
    }

    @Test func aRequestWithoutEnvelopeSenderRoundTripsAndATruncatedHeaderIsRefused() throws {
        let input = InviteInput(message: Array("Subject: é\r\n\r\nbody".utf8), bucket: "b", key: "incoming/ключ", envelopeSender: nil)
        let limits = ParseLimits(timeout: .milliseconds(2250), maximumMIMEParts: 3, maximumMIMEDepth: 4, maximumCalendarComponents: 5,
            maximumEvents: 6, maximumAttendees: 7, maximumOverrides: 8, maximumTimeZoneTransitions: 9)
        let request = ParseWorkerProtocol.request(input, limits: limits)
        let (decoded, decodedLimits) = try ParseWorkerProtocol.decodeRequest(request)
        #expect(decoded.message == input.message && decoded.bucket == "b" && decoded.key == "incoming/ключ" && decoded.envelopeSender == nil)
        #expect(decodedLimits == limits)
        let headerSize = request.count - input.message.count
        for length in 0..<headerSize {
            #expect(throws: ParseWorkerProtocol.MalformedRequest.self) { try ParseWorkerProtocol.decodeRequest(Array(request.prefix(length))) }
        }
    }

    @Test func theRealWorkerParsesAMessage() async throws {
        let binary = try #require(Self.cisBinary, "build the cis product first (swift build)")
        let result = try await WorkerProcessInviteParsing(executable: binary, limits: .default).parse(Self.input)
        #expect(result.requestsForTest?.first?.originalUID == "worker@example.com")
    }

    @Test func aChildStillRunningAtTheDeadlineIsKilledAndTheMessageFails() async throws {
        let parsing = WorkerProcessInviteParsing(executable: try Self.script("exec sleep 60"), limits: ParseLimits(timeout: .milliseconds(200)))
        let started = ContinuousClock.now
        let result = try await parsing.parse(Self.input)
        #expect(ContinuousClock.now - started < .seconds(30), "the child was waited for instead of killed")
        #expect(result.failureForTest?.reason.contains("took longer than the 0.2 s allowed") == true, "\(result)")
        #expect(result.failureForTest?.requestId == "msg-worker")
    }

    @Test func aCrashingChildFailsTheMessage() async throws {
        let parsing = WorkerProcessInviteParsing(executable: try Self.script("head -c 8 > /dev/null; kill -SEGV $$"), limits: .default)
        let result = try await parsing.parse(Self.input)
        #expect(result.failureForTest?.reason.contains("the parser stopped (signal \(SIGSEGV))") == true, "\(result)")
    }

    @Test(arguments: ["head -c 8 > /dev/null; kill -TERM $$", "head -c 8 > /dev/null; exit 3"])
    func aChildStoppedFromOutsideOrFailingIsTransient(script: String) async throws {
        let parsing = WorkerProcessInviteParsing(executable: try Self.script(script), limits: .default)
        await #expect(throws: MessageProcessingError.self) { try await parsing.parse(Self.input) }
    }

    @Test func aWorkerThatCannotStartIsTransient() async throws {
        let parsing = WorkerProcessInviteParsing(executable: "/nonexistent/cis", limits: .default)
        do {
            _ = try await parsing.parse(Self.input)
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .transient && error.stage == .parse)
        }
    }
}

extension InviteParseResult {
    var requestsForTest: [EventRequest]? {
        if case .requests(let requests) = self { return requests }
        return nil
    }

    var failureForTest: InviteFailure? {
        if case .failure(let failure) = self { return failure }
        return nil
    }
}
