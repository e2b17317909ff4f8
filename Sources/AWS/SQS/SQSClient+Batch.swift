import Digest

extension SQSClient {
    /// What SQS accepts in one batch call (`SendMessageBatch`, `DeleteMessageBatch`,
    /// `ChangeMessageVisibilityBatch`).
    public enum BatchLimits {
        public static let maximumEntries = 10
        /// The sum of the bodies' UTF-8 lengths. SQS's limit for a batch's total payload (and
        /// the default `MaximumMessageSize` of a queue) is 256 KiB; newer queues accept up to
        /// 1 MiB, but a batch under the older limit suits every queue.
        public static let maximumPayloadBytes = 262_144
    }

    /// One receipt handle's new visibility timeout, for `changeMessageVisibilityBatch`.
    public struct VisibilityChange: Sendable, Equatable {
        public var receiptHandle: String
        public var visibilityTimeout: Int

        public init(receiptHandle: String, visibilityTimeout: Int) {
            self.receiptHandle = receiptHandle
            self.visibilityTimeout = visibilityTimeout
        }
    }

    /// Sends up to 10 bodies in one call. Returns one result per body, in order: the message
    /// id (SQS's MD5 of the body checked against ours), or that entry's failure as an
    /// `AWSError` whose status is 400 for a sender fault (retrying the entry will not help)
    /// and 500 otherwise (it may). Throws when the call as a whole failed.
    public func sendMessageBatch(queueURL: String, bodies: [String]) async throws -> [Result<String, AWSError>] {
        struct Request: Encodable {
            struct Entry: Encodable {
                var Id: String
                var MessageBody: String
            }
            var QueueUrl: String
            var Entries: [Entry]
        }
        struct Response: Decodable {
            struct Sent: Decodable {
                var Id: String
                var MessageId: String
                var MD5OfMessageBody: String?
            }
            var Successful: [Sent]?
            var Failed: [BatchFailure]?
        }
        let operation = "SendMessageBatch"
        try Self.checkBatchSize(bodies.count, operation: operation)
        let entries = bodies.enumerated().map { Request.Entry(Id: String($0.offset), MessageBody: $0.element) }
        let response: Response = try await AWSJSONProtocol.perform(
            client: self.client, target: "AmazonSQS.\(operation)", operation: operation,
            request: Request(QueueUrl: queueURL, Entries: entries), timeout: nil)
        let successful = (response.Successful ?? []).map { sent -> (String, Result<String, AWSError>) in
            guard let index = Int(sent.Id), bodies.indices.contains(index) else { return (sent.Id, .success(sent.MessageId)) }
            let expected = Digest.md5(Array(bodies[index].utf8)).hexString
            if let md5 = sent.MD5OfMessageBody, md5.lowercased() != expected {
                return (
                    sent.Id,
                    .failure(
                        Self.entryError(operation, "MD5Mismatch", "SQS reported body MD5 \(md5), expected \(expected)", senderFault: true))
                )
            }
            return (sent.Id, .success(sent.MessageId))
        }
        return Self.batchResults(operation, count: bodies.count, successful: successful, failed: response.Failed ?? [])
    }

    /// Deletes up to 10 received messages in one call. Returns one result per receipt handle,
    /// in order (a failed entry as for `sendMessageBatch`); throws when the call as a whole failed.
    public func deleteMessageBatch(queueURL: String, receiptHandles: [String]) async throws -> [Result<Void, AWSError>] {
        struct Entry: Encodable {
            var Id: String
            var ReceiptHandle: String
        }
        return try await self.performEntryBatch(
            "DeleteMessageBatch", queueURL: queueURL,
            entries: receiptHandles.enumerated().map { Entry(Id: String($0.offset), ReceiptHandle: $0.element) })
    }

    /// Changes the visibility of up to 10 received messages in one call. Returns one result
    /// per change, in order (a failed entry as for `sendMessageBatch`); throws when the call
    /// as a whole failed.
    public func changeMessageVisibilityBatch(queueURL: String, changes: [VisibilityChange]) async throws -> [Result<Void, AWSError>] {
        struct Entry: Encodable {
            var Id: String
            var ReceiptHandle: String
            var VisibilityTimeout: Int
        }
        return try await self.performEntryBatch(
            "ChangeMessageVisibilityBatch", queueURL: queueURL,
            entries: changes.enumerated().map {
                Entry(Id: String($0.offset), ReceiptHandle: $0.element.receiptHandle, VisibilityTimeout: $0.element.visibilityTimeout)
            })
    }

    /// A batch call whose successful entries carry only their id; the entries' ids are their indices.
    private func performEntryBatch<Entry: Encodable>(
        _ operation: String, queueURL: String, entries: [Entry]
    ) async throws -> [Result<Void, AWSError>] {
        try Self.checkBatchSize(entries.count, operation: operation)
        let response: EntryIdResponse = try await AWSJSONProtocol.perform(
            client: self.client, target: "AmazonSQS.\(operation)", operation: operation,
            request: EntryBatchRequest(QueueUrl: queueURL, Entries: entries), timeout: nil)
        return Self.batchResults(
            operation, count: entries.count, successful: (response.Successful ?? []).map { ($0.Id, .success(())) },
            failed: response.Failed ?? [])
    }

    /// An entry a batch response lists in `Failed`.
    struct BatchFailure: Decodable {
        var Id: String
        var SenderFault: Bool?
        var Code: String?
        var Message: String?
    }

    private struct EntryBatchRequest<Entry: Encodable>: Encodable {
        var QueueUrl: String
        var Entries: [Entry]
    }

    /// The response of the batch calls whose successful entries carry only their id.
    private struct EntryIdResponse: Decodable {
        struct Done: Decodable {
            var Id: String
        }
        var Successful: [Done]?
        var Failed: [BatchFailure]?
    }

    private static func checkBatchSize(_ count: Int, operation: String) throws {
        guard (1...BatchLimits.maximumEntries).contains(count) else {
            throw AWSRequestError("\(operation): 1 to \(BatchLimits.maximumEntries) entries, not \(count)")
        }
    }

    /// One result per request entry (entry ids are the entries' indices): the first answer
    /// SQS gave for each, and a retryable failure for an entry it did not answer.
    private static func batchResults<Success>(
        _ operation: String, count: Int, successful: [(String, Result<Success, AWSError>)], failed: [BatchFailure]
    ) -> [Result<Success, AWSError>] {
        var results: [Result<Success, AWSError>?] = Array(repeating: nil, count: count)
        for (id, result) in successful {
            guard let index = Int(id), results.indices.contains(index), results[index] == nil else { continue }
            results[index] = result
        }
        for failure in failed {
            guard let index = Int(failure.Id), results.indices.contains(index), results[index] == nil else { continue }
            results[index] = .failure(
                Self.entryError(
                    operation, failure.Code ?? "Failed", failure.Message ?? "entry \(failure.Id) failed", senderFault: failure.SenderFault ?? true))
        }
        return results.enumerated().map { index, result in
            result ?? .failure(Self.entryError(operation, "MissingResult", "the response names no result for entry \(index)", senderFault: false))
        }
    }

    /// A failed entry: status 400 for a sender fault (retrying will not help), 500 otherwise.
    private static func entryError(_ operation: String, _ code: String, _ message: String, senderFault: Bool) -> AWSError {
        AWSError(service: "sqs", operation: operation, statusCode: senderFault ? 400 : 500, code: code, message: message)
    }
}
