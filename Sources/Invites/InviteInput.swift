/// One stored message to parse: its raw bytes and where it came from.
public struct InviteInput: Sendable {
    /// The raw RFC 5322 message (or a bare iCalendar object).
    public var message: [UInt8]
    /// The bucket holding the object.
    public var bucket: String
    /// The object key; its last path segment is the request id.
    public var key: String
    /// The SMTP envelope sender (object metadata), the last resort for the requester's address.
    public var envelopeSender: String?

    public init(message: [UInt8], bucket: String, key: String, envelopeSender: String?) {
        self.message = message
        self.bucket = bucket
        self.key = key
        self.envelopeSender = envelopeSender
    }

    /// The request id: the last segment of the object key.
    public var requestId: String {
        let segments = self.key.split(separator: "/", omittingEmptySubsequences: true)
        return segments.last.map(String.init) ?? self.key
    }
}
