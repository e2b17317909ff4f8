import Digest

extension SQSClient {
    /// What SQS accepts in one `SendMessageBatch`.
    public enum SendBatchLimits {
        public static let maximumEntries = 10
        /// The sum of the bodies' UTF-8 lengths. SQS's limit for a batch's total payload (and
        /// the default `MaximumMessageSize` of a queue) is 256 KiB; newer queues accept up to
        /// 1 MiB, but a batch under the older limit suits every queue.
        public static let maximumPayloadBytes = 262_144
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
            struct Failed: Decodable {
                var Id: String
                var SenderFault: Bool?
                var Code: String?
                var Message: String?
            }
            var Successful: [Sent]?
            var Failed: [Failed]?
        }
        guard (1...SendBatchLimits.maximumEntries).contains(bodies.count) else {
            throw AWSRequestError("SendMessageBatch: 1 to \(SendBatchLimits.maximumEntries) messages, not \(bodies.count)")
        }
        let operation = "SendMessageBatch"
        let entries = bodies.enumerated().map { Request.Entry(Id: String($0.offset), MessageBody: $0.element) }
        let response: Response = try await AWSJSONProtocol.perform(
            client: self.client, target: "AmazonSQS.\(operation)", operation: operation,
            request: Request(QueueUrl: queueURL, Entries: entries), timeout: nil)

        func entryError(_ code: String, _ message: String, senderFault: Bool) -> AWSError {
            AWSError(service: "sqs", operation: operation, statusCode: senderFault ? 400 : 500, code: code, message: message)
        }
        var results: [Result<String, AWSError>?] = Array(repeating: nil, count: bodies.count)
        var answered = Set<Int>()
        for sent in response.Successful ?? [] {
            guard let index = Int(sent.Id), results.indices.contains(index), answered.insert(index).inserted else { continue }
            let expected = Digest.md5(Array(bodies[index].utf8)).hexString
            if let md5 = sent.MD5OfMessageBody, md5.lowercased() != expected {
                results[index] = .failure(
                    entryError("MD5Mismatch", "SQS reported body MD5 \(md5), expected \(expected)", senderFault: true))
            } else {
                results[index] = .success(sent.MessageId)
            }
        }
        for failed in response.Failed ?? [] {
            guard let index = Int(failed.Id), results.indices.contains(index), answered.insert(index).inserted else { continue }
            results[index] = .failure(
                entryError(failed.Code ?? "Failed", failed.Message ?? "entry \(failed.Id) failed", senderFault: failed.SenderFault ?? true))
        }
        return results.enumerated().map { index, result in
            result ?? .failure(entryError("MissingResult", "the response names no result for entry \(index)", senderFault: false))
        }
    }
}
