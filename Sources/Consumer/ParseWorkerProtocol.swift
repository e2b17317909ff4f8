import Foundation
import Invites

/// What travels between the consumer and a `cis parse-worker` child over its standard input
/// and output, as many times as the worker lives: a request frame (a JSON header line, then
/// the raw message), answered by a frame holding the JSON result. A frame is an 8-byte
/// big-endian length, then that many bytes; each side refuses a length over its bound.
public enum ParseWorkerProtocol {
    /// The status a worker exits with when it ran out of its memory limit (`cis parse-worker
    /// --memory-limit`): an allocation failed, and the parse crashed or could not be trusted.
    public static let memoryLimitExitStatus: Int32 = 86

    /// The bytes of a frame's length.
    public static let frameHeaderSize = 8
    /// The largest message sent to a worker: far above the intake's message size limit (40 MiB
    /// by default), so that only a corrupted store ever reaches it.
    public static let maximumMessageSize = 1 << 30
    /// The largest request frame: the message and its header line (a bucket, a key, a sender).
    public static let maximumRequestSize = maximumMessageSize + (1 << 20)

    /// The largest answer accepted for a request of `requestSize` bytes: the JSON of every
    /// request found, which escapes (up to 6 bytes for one) and repeats the message's text.
    public static func maximumAnswerSize(forRequestOf requestSize: Int) -> Int {
        16 * requestSize + (16 << 20)
    }

    /// `payload` with its length in front.
    public static func frame(_ payload: [UInt8]) -> [UInt8] {
        var framed = [UInt8]()
        framed.reserveCapacity(Self.frameHeaderSize + payload.count)
        let length = UInt64(payload.count)
        for shift in stride(from: 56, through: 0, by: -8) {
            framed.append(UInt8(truncatingIfNeeded: length >> UInt64(shift)))
        }
        framed.append(contentsOf: payload)
        return framed
    }

    /// The payload length a frame header announces.
    public static func payloadLength(_ header: some Collection<UInt8>) -> UInt64 {
        header.reduce(0) { ($0 << 8) | UInt64($1) }
    }

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
