import Foundation
import Invites

/// What travels between the consumer and a `cis parse-worker` child over its standard input
/// and output: one request (a JSON header line, then the raw message), one JSON result.
public enum ParseWorkerProtocol {
    /// The header line of a request.
    public struct Header: Codable, Sendable {
        public var bucket: String
        public var key: String
        public var envelopeSender: String?
        public var limits: ParseLimits
    }

    public struct MalformedRequest: Error, CustomStringConvertible {
        public var description: String
    }

    public static func request(_ input: InviteInput, limits: ParseLimits) -> [UInt8] {
        let header = Header(bucket: input.bucket, key: input.key, envelopeSender: input.envelopeSender, limits: limits)
        // Encoding a struct of strings and numbers cannot fail.
        let json = (try? JSONEncoder().encode(header)) ?? Data()
        return [UInt8](json) + [0x0A] + input.message
    }

    public static func decodeRequest(_ data: Data) throws -> (input: InviteInput, limits: ParseLimits) {
        guard let newline = data.firstIndex(of: 0x0A) else {
            throw MalformedRequest(description: "no header line")
        }
        let header = try JSONDecoder().decode(Header.self, from: data[data.startIndex..<newline])
        let message = [UInt8](data[data.index(after: newline)...])
        let input = InviteInput(message: message, bucket: header.bucket, key: header.key, envelopeSender: header.envelopeSender)
        return (input, header.limits)
    }

    public static func response(_ result: InviteParseResult) throws -> Data {
        try JSONEncoder().encode(result)
    }

    public static func decodeResponse(_ data: Data) throws -> InviteParseResult {
        try JSONDecoder().decode(InviteParseResult.self, from: data)
    }
}
