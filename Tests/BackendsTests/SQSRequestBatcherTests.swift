import AWS
import Foundation
import Testing

@testable import Backends

/// The batcher behind SQS's batch calls with a transmit function in place of SQS (no sockets):
/// which entries travel together and which caller gets which answer.
@Suite("SQS request batcher")
struct SQSRequestBatcherTests {
    /// Records the batches it is given and answers each entry by the rule of the test.
    actor Calls {
        private(set) var batches: [[String]] = []
        private var answer: @Sendable (String, Int) -> Result<String, AWSError>
        private var wholeCallFailure: (@Sendable ([String]) -> AWSError?)?

        init(
            answer: @escaping @Sendable (String, Int) -> Result<String, AWSError> = { entry, _ in .success("done " + entry) },
            wholeCallFailure: (@Sendable ([String]) -> AWSError?)? = nil
        ) {
            self.answer = answer
            self.wholeCallFailure = wholeCallFailure
        }

        func transmit(_ entries: [String]) throws -> [Result<String, AWSError>] {
            self.batches.append(entries)
            if let failure = self.wholeCallFailure?(entries) { throw failure }
            return entries.map { entry in self.answer(entry, self.batches.filter { $0.contains(entry) }.count) }
        }
    }

    static func entryError(_ code: String, status: Int) -> AWSError {
        AWSError(service: "sqs", operation: "DeleteMessageBatch", statusCode: status, code: code, message: "entry refused")
    }

    static func batcher(_ calls: Calls, window: Duration = .milliseconds(200)) -> SQSRequestBatcher<String, String> {
        SQSRequestBatcher(
            window: window, retryPolicy: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(5)), bytes: { $0.utf8.count }
        ) { entries in try await calls.transmit(entries) }
    }

    /// Submits every entry at once; returns each one's outcome.
    static func submitAll(_ entries: [String], to batcher: SQSRequestBatcher<String, String>) async -> [String: Result<String, any Error>] {
        await withTaskGroup(of: (String, Result<String, any Error>).self) { group in
            for entry in entries {
                group.addTask { (entry, await Result { try await batcher.submit(entry) }) }
            }
            return await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
    }

    @Test("25 concurrent entries travel in three calls of at most 10, each caller answered with its own entry")
    func concurrentEntriesShareCalls() async throws {
        let calls = Calls()
        let entries = (0..<25).map { "handle-\($0)" }
        let outcomes = await Self.submitAll(entries, to: Self.batcher(calls, window: .seconds(1)))
        for entry in entries {
            #expect(try outcomes[entry]?.get() == "done " + entry)
        }
        let batches = await calls.batches
        #expect(batches.count == 3)
        #expect(batches.allSatisfy { $0.count <= 10 })
        #expect(batches.flatMap { $0 }.sorted() == entries.sorted(), "every entry sent exactly once")
    }

    @Test("an entry refused as the sender's fault fails only its caller and is not sent again")
    func senderFaultFailsOnlyItsCaller() async throws {
        let calls = Calls(answer: { entry, _ in
            entry == "stale" ? .failure(Self.entryError("ReceiptHandleIsInvalid", status: 400)) : .success("done " + entry)
        })
        let entries = ["a", "b", "stale", "c"]
        let outcomes = await Self.submitAll(entries, to: Self.batcher(calls))
        for entry in ["a", "b", "c"] {
            #expect(try outcomes[entry]?.get() == "done " + entry)
        }
        guard case .failure(let error) = outcomes["stale"] else {
            Issue.record("the stale entry succeeded")
            return
        }
        #expect((error as? AWSError)?.code == "ReceiptHandleIsInvalid")
        let batches = await calls.batches
        #expect(batches.count == 1 && batches[0].sorted() == entries.sorted(), "one call for all four: \(batches)")
    }

    @Test("an entry failed by a server fault is sent again in a later call until it succeeds")
    func serverFaultRetriedAlone() async throws {
        let calls = Calls(answer: { entry, sent in
            entry == "flaky" && sent == 1 ? .failure(Self.entryError("InternalError", status: 500)) : .success("done " + entry)
        })
        let outcomes = await Self.submitAll(["x", "flaky", "y"], to: Self.batcher(calls, window: .milliseconds(500)))
        for entry in ["x", "flaky", "y"] {
            #expect(try outcomes[entry]?.get() == "done " + entry)
        }
        let batches = await calls.batches
        #expect(batches.count == 2)
        #expect(batches.last == ["flaky"], "only the failed entry goes again: \(batches)")
    }

    @Test("a server fault on every attempt fails the entry after the retry policy's attempts")
    func serverFaultGivesUp() async throws {
        let calls = Calls(answer: { entry, _ in
            entry == "down" ? .failure(Self.entryError("InternalError", status: 500)) : .success("done " + entry)
        })
        let outcomes = await Self.submitAll(["down", "up"], to: Self.batcher(calls, window: .milliseconds(50)))
        #expect(try outcomes["up"]?.get() == "done up")
        guard case .failure(let error) = outcomes["down"] else {
            Issue.record("the failing entry succeeded")
            return
        }
        #expect((error as? AWSError)?.code == "InternalError")
        let sent = await calls.batches.filter { $0.contains("down") }.count
        #expect(sent == 3, "three attempts in all")
    }

    @Test("a call refused as a whole with 400 is split: each entry alone, only the one at fault fails")
    func wholeCallRefusedIsSplit() async throws {
        let calls = Calls(
            answer: { entry, _ in .success("done " + entry) },
            wholeCallFailure: { entries in
                entries.contains("bad") ? AWSError(service: "sqs", operation: "SendMessageBatch", statusCode: 400, code: "InvalidParameterValue", message: "too long") : nil
            })
        let outcomes = await Self.submitAll(["p", "bad", "q"], to: Self.batcher(calls))
        #expect(try outcomes["p"]?.get() == "done p")
        #expect(try outcomes["q"]?.get() == "done q")
        guard case .failure(let error) = outcomes["bad"] else {
            Issue.record("the bad entry succeeded")
            return
        }
        #expect((error as? AWSError)?.code == "InvalidParameterValue")
        let batches = await calls.batches
        #expect(batches.count == 4, "one call of three, then three of one: \(batches)")
        #expect(batches.dropFirst().allSatisfy { $0.count == 1 })
    }

    @Test("a call that fails otherwise fails every entry in it")
    func wholeCallFailureFailsAll() async throws {
        let calls = Calls(wholeCallFailure: { _ in
            AWSError(service: "sqs", operation: "DeleteMessageBatch", statusCode: 503, code: "ServiceUnavailable", message: "down")
        })
        let outcomes = await Self.submitAll(["m", "n"], to: Self.batcher(calls))
        for entry in ["m", "n"] {
            guard case .failure(let error) = outcomes[entry] else {
                Issue.record("\(entry) succeeded")
                continue
            }
            #expect((error as? AWSError)?.code == "ServiceUnavailable")
        }
        #expect(await calls.batches.count == 1)
    }

    @Test("an answer missing for an entry fails that entry only")
    func shortAnswerFailsTheRest() async throws {
        let batcher = SQSRequestBatcher<String, String>(window: .milliseconds(100), bytes: { $0.utf8.count }) { entries in
            [.success("first of \(entries.count)")]
        }
        let outcomes = await Self.submitAll(["one", "two"], to: batcher)
        let answered = outcomes.values.filter { (try? $0.get()) == "first of 2" }
        #expect(answered.count == 1)
        #expect(outcomes.values.filter { (try? $0.get()) == nil }.count == 1)
    }
}
