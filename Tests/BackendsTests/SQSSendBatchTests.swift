import AWS
import Foundation
import Testing

@testable import Backends

/// How notifications are grouped into `SendMessageBatch` calls (no clock, no sockets), and the
/// batching queue against moto verifying every signature.
@Suite("SQS send batches")
struct SQSSendBatchTests {
    @Test("a batch closes at 10 entries, before the bytes that would not fit, and by its window")
    func gatheringLimits() {
        var gathering = BatchGathering<Int>(maximumEntries: 10, maximumBytes: 100)
        var ready: [[Int]] = []
        let first = gathering.add(0, bytes: 5)
        #expect(first.opened == 1 && first.ready.isEmpty)
        for item in 1..<10 {
            let added = gathering.add(item, bytes: 5)
            #expect(added.opened == nil)
            ready += added.ready
        }
        #expect(ready == [Array(0..<10)], "the tenth entry closes the batch")
        #expect(gathering.takeOpen(number: 1) == nil, "the window of a batch already sent finds nothing")

        #expect(gathering.add(10, bytes: 60).opened == 2)
        let overflow = gathering.add(11, bytes: 50)
        #expect(overflow.ready == [[10]], "110 bytes do not fit in 100: the open batch leaves first")
        #expect(overflow.opened == 3)
        #expect(gathering.takeOpen(number: 2) == nil, "a stale window")
        #expect(gathering.takeOpen(number: 3) == [11])
        #expect(gathering.takeOpen(number: 3) == nil)
    }

    @Test("an item over the byte limit travels alone")
    func oversizedItemAlone() {
        var gathering = BatchGathering<String>(maximumEntries: 10, maximumBytes: 100)
        _ = gathering.add("small", bytes: 10)
        let big = gathering.add("big", bytes: 500)
        #expect(big.ready == [["small"], ["big"]])
        #expect(big.opened == nil)
        #expect(gathering.open.isEmpty)
    }

    @Test("concurrent sends share SendMessageBatch calls and each message arrives once")
    func concurrentSendsArriveOnce() async throws {
        let moto = try MotoServer()
        let queueURL = try await moto.createQueue(MotoServer.uniqueName("cis-send-batch"))
        let queue = SQSMessageQueue(sqs: try moto.services.sqs(), queueURL: queueURL, batchWindow: .milliseconds(200))
        let bodies = (0..<25).map { "notification \($0)" }
        let ids = try await withThrowingTaskGroup(of: String.self) { group in
            for body in bodies { group.addTask { try await queue.send(body: body) } }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(Set(ids).count == 25)

        var received: [String: Int] = [:]
        while true {
            let batch = try await queue.receive(maxMessages: 10, visibilityTimeout: 60, waitTime: 0)
            if batch.isEmpty { break }
            for message in batch { received[message.body, default: 0] += 1 }
        }
        #expect(received == Dictionary(uniqueKeysWithValues: bodies.map { ($0, 1) }))
    }

    @Test("a batch SQS refuses for one entry too long fails only that entry")
    func oneEntryTooLong() async throws {
        let moto = try MotoServer()
        // moto, like SQS, refuses the whole call when one body is over the queue's limit.
        let queueURL = try await moto.createQueue(MotoServer.uniqueName("cis-send-small"), attributes: ["MaximumMessageSize": "1024"])
        let queue = SQSMessageQueue(sqs: try moto.services.sqs(), queueURL: queueURL, batchWindow: .milliseconds(500))
        let bodies = ["short 0", String(repeating: "x", count: 2000), "short 2", "short 3"]
        let results = await withTaskGroup(of: (Int, Result<String, any Error>).self) { group in
            for (index, body) in bodies.enumerated() {
                group.addTask { (index, await Result { try await queue.send(body: body) }) }
            }
            return await group.reduce(into: [Int: Result<String, any Error>]()) { $0[$1.0] = $1.1 }
        }
        for index in [0, 2, 3] {
            #expect((try? results[index]?.get()) != nil, "entry \(index) is accepted")
        }
        guard case .failure(let error) = results[1] else {
            Issue.record("the long entry was accepted")
            return
        }
        let backendError = try #require(error as? BackendError)
        #expect(!backendError.isRetryable)
        #expect(backendError.message.contains("InvalidParameterValue"))

        var received: [String] = []
        while true {
            let batch = try await queue.receive(maxMessages: 10, visibilityTimeout: 60, waitTime: 0)
            if batch.isEmpty { break }
            received += batch.map(\.body)
        }
        #expect(received.sorted() == ["short 0", "short 2", "short 3"])
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}
