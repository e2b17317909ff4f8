import Invites

/// What travels between the consumer and a `cis parse-worker` child over its standard input
/// and output, as many times as the worker lives: a request frame (a binary header, then the
/// raw message), answered by a frame holding the result (`ParseWorkerAnswer`). A frame is an 8-byte
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

    /// The largest answer accepted for a request of `requestSize` bytes: every request found,
    /// which repeats the message's text (once per event of a PUBLISH, and per override).
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

    public struct MalformedRequest: Error, CustomStringConvertible {
        public var description: String
    }

    /// A request's payload: its header, then the raw message. The header is binary (JSONEncoder's
    /// set-up alone cost more than the rest of a request): the bucket, the key and the envelope
    /// sender (a presence byte first) each as a 4-byte big-endian length and UTF-8, then the
    /// limits as 8-byte big-endian integers: the timeout's seconds and attoseconds and the seven
    /// counts in the order of `ParseLimits`' members.
    public static func request(_ input: InviteInput, limits: ParseLimits) -> [UInt8] {
        var payload = [UInt8]()
        payload.reserveCapacity(128 + input.bucket.utf8.count + input.key.utf8.count + input.message.count)
        Self.append(input.bucket, to: &payload)
        Self.append(input.key, to: &payload)
        if let sender = input.envelopeSender {
            payload.append(1)
            Self.append(sender, to: &payload)
        } else {
            payload.append(0)
        }
        let timeout = limits.timeout.components
        for value in [
            timeout.seconds, timeout.attoseconds, Int64(limits.maximumMIMEParts), Int64(limits.maximumMIMEDepth),
            Int64(limits.maximumCalendarComponents), Int64(limits.maximumEvents), Int64(limits.maximumAttendees),
            Int64(limits.maximumOverrides), Int64(limits.maximumTimeZoneTransitions),
        ] {
            Self.append(UInt64(bitPattern: value), bytes: 8, to: &payload)
        }
        payload.append(contentsOf: input.message)
        return payload
    }

    public static func decodeRequest(_ payload: [UInt8]) throws(MalformedRequest) -> (input: InviteInput, limits: ParseLimits) {
        var reader = RequestReader(payload: payload)
        let bucket = try reader.string("bucket")
        let key = try reader.string("key")
        let sender = try reader.integer(bytes: 1, "sender presence") == 1 ? try reader.string("envelope sender") : nil
        var values: [Int] = []
        for name in ["timeout seconds", "timeout attoseconds", "MIME parts", "MIME depth", "calendar components", "events", "attendees", "overrides", "time zone transitions"] {
            values.append(Int(Int64(bitPattern: try reader.integer(bytes: 8, name))))
        }
        let limits = ParseLimits(
            timeout: Duration(secondsComponent: Int64(values[0]), attosecondsComponent: Int64(values[1])), maximumMIMEParts: values[2],
            maximumMIMEDepth: values[3], maximumCalendarComponents: values[4], maximumEvents: values[5], maximumAttendees: values[6],
            maximumOverrides: values[7], maximumTimeZoneTransitions: values[8])
        let message = Array(payload[reader.offset...])
        return (InviteInput(message: message, bucket: bucket, key: key, envelopeSender: sender), limits)
    }

    private static func append(_ text: String, to payload: inout [UInt8]) {
        Self.append(UInt64(text.utf8.count), bytes: 4, to: &payload)
        payload.append(contentsOf: text.utf8)
    }

    private static func append(_ value: UInt64, bytes: Int, to payload: inout [UInt8]) {
        for shift in stride(from: (bytes - 1) * 8, through: 0, by: -8) {
            payload.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }

    /// Reads a request header, every field bounded by what is left of the payload.
    private struct RequestReader {
        let payload: [UInt8]
        var offset = 0

        mutating func integer(bytes: Int, _ what: String) throws(MalformedRequest) -> UInt64 {
            guard self.payload.count - self.offset >= bytes else { throw MalformedRequest(description: "the header ends inside the \(what)") }
            let value = self.payload[self.offset..<self.offset + bytes].reduce(UInt64(0)) { ($0 << 8) | UInt64($1) }
            self.offset += bytes
            return value
        }

        mutating func string(_ what: String) throws(MalformedRequest) -> String {
            let length = try self.integer(bytes: 4, "length of the \(what)")
            guard UInt64(self.payload.count - self.offset) >= length else { throw MalformedRequest(description: "the header ends inside the \(what)") }
            let end = self.offset + Int(length)
            defer { self.offset = end }
            return String(decoding: self.payload[self.offset..<end], as: UTF8.self)
        }
    }

    /// An answer's payload (`ParseWorkerAnswer`).
    public static func response(_ result: InviteParseResult) -> [UInt8] {
        ParseWorkerAnswer.encode(result)
    }

    public static func decodeResponse(_ payload: [UInt8]) throws(ParseWorkerAnswer.Malformed) -> InviteParseResult {
        try ParseWorkerAnswer.decode(payload)
    }
}
